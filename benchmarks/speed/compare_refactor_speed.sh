#!/usr/bin/env bash
# Did a refactor keep the speed? The live pipeline and `livestyle bench`, a BEFORE commit
# against this working tree, in one run, rounds taking turns so load hits both alike.
#
#   benchmarks/speed/compare_refactor_speed.sh [BEFORE_COMMIT (default c9a7a34)] [OUT_DIR (default /tmp/refactor-speed)]
#
# BEFORE is checked out in a temporary `git worktree`; both trees run with this shell's
# python (the active venv's: the same torch and ONNX Runtime), from inside the tree, so
# `python -m livestyle` imports that tree's package (trees.txt shows which file each loaded).
# Writes live.txt (each round's summary line), bench_{before,after}.{md,json}, summary.md.
# QUICK=1 runs tiny settings to check the script itself, not the speed.
set -euo pipefail
before=${1:-c9a7a34}
out=${2:-/tmp/refactor-speed}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=$(command -v python)

rounds=3 frames=300 runs=9 infer_sizes=320,640 seconds=6
if [ "${QUICK:-0}" = 1 ]; then
  rounds=1 frames=30 runs=1 infer_sizes=320 seconds=1
fi

mkdir -p "$out"
work=$(mktemp -d)
git -C "$repo" worktree add --detach --quiet "$work/before" "$before"
trap 'git -C "$repo" worktree remove --force "$work/before"; rm -rf "$work"' EXIT
declare -A tree=([before]="$work/before" [after]="$repo")

: >"$out/trees.txt"
for which in before after; do
  file=$(cd "${tree[$which]}" && "$py" -c 'import livestyle; print(livestyle.__file__)')
  echo "$which ($([ $which = before ] && echo "$before" || echo "working tree")): $file" |
    tee -a "$out/trees.txt"
done

: >"$out/live.txt"
for round in $(seq "$rounds"); do
  for which in before after; do
    line=$(cd "${tree[$which]}" &&
      "$py" -m livestyle live --headless --source demo-scene --max-frames "$frames" \
        2>>"$out/live_$which.log" | tail -1)
    echo "$which round $round: $line" | tee -a "$out/live.txt"
  done
done

for which in before after; do
  (cd "${tree[$which]}" &&
    "$py" -m livestyle bench --device cpu --sizes 640x480 --runs "$runs" \
      --infer-sizes "$infer_sizes" --pipeline-seconds "$seconds" --pipeline-fps 30 \
      --json "$out/bench_$which.json") >"$out/bench_$which.md"
  echo "bench $which done"
done

"$py" "$here/speed_summary.py" "$out" | tee "$out/summary.md"
