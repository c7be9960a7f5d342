#!/usr/bin/env bash
# How the shipped styles in livestyle/shipped_styles/ (package data, so wheels carry them) were
# trained: `livestyle train` on ../shared's public-domain paintings and photos.
# Usage, from the repository root: bash livestyle/shipped_styles/train_shipped.sh [variant] [steps] [size] [jobs]
# On the 2-core CPU this project is built on: lite, 500 steps, 192 px crops, 2 jobs of 1 thread.
# On a GPU: bash livestyle/shipped_styles/train_shipped.sh standard 4000 256 1
set -euo pipefail
cd "$(dirname "$0")/../.."  # the repository root: runs/ and ../shared are relative to it
variant=${1:-lite}
steps=${2:-500}
size=${3:-192}
jobs=${4:-2}
shared=${SHARED:-../shared}
# Where the styles go (benchmarks/gpu_session.py trains into its own folder), extra options
# for every run (e.g. TRAIN_ARGS="--max-minutes 5 --batch 8"; later options win), the Python.
weights_dir=${WEIGHTS_DIR:-livestyle/shipped_styles}
train_args=${TRAIN_ARGS:-}
python=${PYTHON:-python3}
licence="public domain (artist died over 70 years ago; work published before 1930)"

# name|painting file|title|artist|year|key order (the most striking on 1-4)|style weight
# (style weight 8 by default; 4 or 2 where 8 buried the photo or left blotches in the gallery)
styles=(
  "starry_night|vangogh_starry_night.jpg|The Starry Night|Vincent van Gogh|1889|1"
  "great_wave|hokusai_great_wave.jpg|The Great Wave off Kanagawa|Katsushika Hokusai|c. 1831|2"
  "composition_vii|kandinsky_composition_vii.jpg|Composition VII|Wassily Kandinsky|1913|3|4"
  "udnie|picabia_udnie.jpg|Udnie (Young American Girl; The Dance)|Francis Picabia|1913|4|4"
  "the_scream|munch_the_scream.jpg|The Scream|Edvard Munch|1893|5|4"
  "grande_jatte|seurat_la_grande_jatte.jpg|A Sunday on La Grande Jatte|Georges Seurat|1884-86|6|4"
  "adele|klimt_adele_bloch_bauer_i.jpg|Portrait of Adele Bloch-Bauer I|Gustav Klimt|1907|7|2"
  "impression_sunrise|monet_impression_sunrise.jpg|Impression, Sunrise|Claude Monet|1872|8|2"
)

train_one() {
  IFS='|' read -r name file title artist year order weight <<<"$1"
  threads=$(( $(nproc) / jobs )); [ "$threads" -ge 1 ] || threads=1
  # shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
  "$python" -m livestyle train --style-image "$shared/styles/$file" --data "$shared/photos" \
    --name "$name" --variant "$variant" --steps "$steps" --size "$size" --batch 4 --style-weight "${weight:-8}" \
    --threads "$threads" --run-dir "runs/$name-$variant" \
    --out "$weights_dir/$name.$variant.safetensors" \
    --title "$title" --artist "$artist" --year "$year" --licence "$licence" --order "$order" \
    $train_args \
    >"runs/$name-$variant.log" 2>&1 && echo "done $name" || echo "FAILED $name (runs/$name-$variant.log)"
}

mkdir -p runs
only=${ONLY:-}  # e.g. ONLY="udnie composition_vii" retrains just those
for entry in "${styles[@]}"; do
  [ -z "$only" ] || [[ " $only " == *" ${entry%%|*} "* ]] || continue
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 2; done
  train_one "$entry" &
done
wait
