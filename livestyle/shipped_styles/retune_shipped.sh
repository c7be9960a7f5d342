#!/usr/bin/env bash
# The second stage of the former lite network (16/32/64 channels, until issue 24; the lite
# network shipped now learned its retuned pictures, see train_shipped.sh): a few of its styles
# trained again, norm rows only (`livestyle train --add-to ... --retune`), every other style
# bit for bit as it was. Raising these weights for the whole network made every style paler
# (benchmarks/RESULTS.md, "Retuning single styles"), so they are set here, not in paintings.json.
# Usage, from the repository root: bash livestyle/shipped_styles/retune_shipped.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${SHARED:-../shared}
python=${PYTHON:-python3}
network=${NETWORK:-livestyle/shipped_styles/paintings.lite.safetensors}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# retune NAME:KEY=VALUE,... STEPS [extra options]: paintings.json's entries for the names,
# with the keys overridden, trained again from where they are.
retune() {
  local spec=$1 steps=$2
  shift 2
  "$python" - "$spec" "$work/manifest.json" <<'EOF'
import json, sys
spec, out = sys.argv[1:]
entries = {e["name"]: e for e in json.load(open("livestyle/shipped_styles/paintings.json"))}
chosen = []
for item in spec.split(";"):
    name, _, settings = item.partition(":")
    entry = dict(entries[name])
    for pair in filter(None, settings.split(",")):
        key, value = pair.split("=")
        entry[key] = float(value)
    chosen.append(entry)
json.dump(chosen, open(out, "w"))
EOF
  OMP_NUM_THREADS=1 "$python" -m livestyle train --manifest "$work/manifest.json" \
    --paintings-dir "$shared/styles" --data "$shared/photos" --variant lite --size 192 \
    --batch 4 --threads 1 --lr 3e-4 --steps "$steps" --run-dir "$work/run" \
    --add-to "$network" --retune --out "$work/paintings.lite.safetensors" "$@"
  mv "$work/paintings.lite.safetensors" "$network"
  rm -rf "$work/run"
}

# 1. Steadier on video: the Water Lilies and Mondrian flickered above 2.5x the clip's own.
retune "water_lilies:temporal_weight=20;mondrian:temporal_weight=20" 1500
retune "water_lilies:temporal_weight=35;mondrian:temporal_weight=35" 1000
# 2. Nearer their paintings' colours (the colour term: the output's colour mean and covariance
# against the painting's). The Great Wave, Grande Jatte and Impression, Sunrise were pale;
# more style weight alone gave them texture, not colour.
retune "great_wave:style_weight=6;grande_jatte:style_weight=5;impression_sunrise:style_weight=4" \
  1500 --color-weight 1
retune "starry_night;the_scream;adele" 2000 --color-weight 1
# The colour term costs steadiness: Starry Night went to 2.56x at full size, hence its weight.
retune "starry_night:temporal_weight=15;composition_vii;udnie;shipwreck;water_lilies:temporal_weight=50;mondrian:temporal_weight=50;edtaonisl" \
  3500 --color-weight 1 --threads 2
