#!/usr/bin/env bash
# Same-run comparison of the live pipeline and `livestyle bench` before (815736e) and after
# the layout refactor (issue 10). Needs /work/wt-old (git worktree add /work/wt-old 815736e)
# with its own venv /work/venv-old; writes /work/exp/compare_speed.txt and bench_{old,new}.md.
set -u
out=/work/exp/compare_speed.txt; : > "$out"
for round in 1 2 3; do
  for which in old new; do
    if [ $which = old ]; then py=/work/venv-old/bin/python; dir=/work/wt-old; else py=/work/venv/bin/python; dir=/work/main; fi
    line=$(cd /tmp && $py -m livestyle live --headless --source demo --max-frames 300 2>/dev/null | tail -1)
    echo "round $round $which live-headless-demo-640x480: $line" | tee -a "$out"
  done
done
for which in old new; do
  if [ $which = old ]; then py=/work/venv-old/bin/python; else py=/work/venv/bin/python; fi
  (cd /tmp && $py -m livestyle bench --device cpu --sizes 640x480 --runs 9 --infer-sizes 320,640 --pipeline-seconds 6 --pipeline-fps 30 --json /work/exp/bench_$which.json) > /work/exp/bench_$which.md 2>&1
  echo "bench $which done" | tee -a "$out"
done
