#!/usr/bin/env bash
# How the shipped styles in livestyle/shipped_styles/ (package data, so wheels carry them) were
# trained: one multi-style network (conditional instance norm) over the 12 public-domain
# paintings of ../shared/styles that paintings.json lists, with ../shared's photos.
# Usage, from the repository root: bash livestyle/shipped_styles/train_shipped.sh [variant] [minutes] [size] [processes]
# On the 2-core CPU this project is built on, one network alone: lite, 192 px crops, 2
# processes of 1 thread under torchrun (26.6 crops/s against 24.6 for one process of 2
# threads); both networks at once: each with 1 process, TRAIN_ARGS="--threads 1" (RESULTS.md).
# On a GPU: bash livestyle/shipped_styles/train_shipped.sh standard 8 256 1
# The lite network that ships (issue 24's shape: nothing at full resolution) learned the
# pictures of the lite network it replaced (16/32/64 channels, 9x9 at full resolution, its
# styles retuned by retune_shipped.sh) beside the usual losses:
#   git show 2f2902e:livestyle/shipped_styles/paintings.lite.safetensors > runs/former.lite.safetensors
#   TRAIN_ARGS="--teacher runs/former.lite.safetensors --teacher-weight 20" \
#     bash livestyle/shipped_styles/train_shipped.sh lite 85 192 2
# Then its padding moved into the convolutions (zeros, no separate pad op; RESULTS.md run I):
# the network above started every weight where it was and learned its own pictures back,
# 3,685 steps in one 1-thread process (beside another run) at lr 5e-4:
#   git show 82dc847:livestyle/shipped_styles/paintings.lite.safetensors > runs/reflect.lite.safetensors
#   TRAIN_ARGS="--init-from runs/reflect.lite.safetensors --teacher runs/reflect.lite.safetensors \
#     --teacher-weight 20 --lr 5e-4 --threads 1" bash livestyle/shipped_styles/train_shipped.sh lite 55 192 1
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root: runs/ and ../shared are relative to it
variant=${1:-lite}
minutes=${2:-90}
size=${3:-192}
processes=${4:-2}
shared=${SHARED:-../shared}
# Where the network goes (benchmarks/gpu/gpu_session.py trains into its own folder), extra options
# (e.g. TRAIN_ARGS="--batch 8 --resume runs/paintings-lite/checkpoint.pt"; later options win).
weights_dir=${WEIGHTS_DIR:-livestyle/shipped_styles}
train_args=${TRAIN_ARGS:-}
python=${PYTHON:-python3}
# The standard network diverged at 3e-3 (style loss 8.7 after 300 steps, against 0.9 at 1e-3;
# benchmarks/RESULTS.md), and so did the wider lite network (16/32/64) into one sepia ramp.
lr=1e-3
threads=$(( $(nproc) / processes )); [ "$threads" -ge 1 ] || threads=1
launch=("$python")
if [ "$processes" -gt 1 ]; then  # data-parallel: torchrun, one process per share of the cores
  launch=("$python" -m torch.distributed.run --standalone --nproc_per_node "$processes")
fi

mkdir -p runs
# shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
OMP_NUM_THREADS=$threads "${launch[@]}" -m livestyle train \
  --manifest livestyle/shipped_styles/paintings.json --paintings-dir "$shared/styles" \
  --data "$shared/photos" --variant "$variant" --size "$size" --batch 4 \
  --steps 1000000 --max-minutes "$minutes" --threads "$threads" --lr "$lr" \
  --preview-every 1000 --checkpoint-every 500 --preview-image "$shared/photos/pypi_bundled/skimage_astronaut.png" \
  --run-dir "runs/paintings-$variant" --out "$weights_dir/paintings.$variant.safetensors" \
  $train_args
