#!/usr/bin/env bash
# How the lite network that ships now was made from the one before it (issue 25, 2026-12-03 and 04;
# benchmarks/RESULTS.md, "Judged blind against the peer", rounds two, three and seven): fine-tunes
# of every weight (`train --init-from`), then of single styles' norm rows (`--retune`), one
# 1-thread process each (two fit the 2-core CPU this was made on).
# Usage, from the repository root: bash livestyle/shipped_styles/finetune_shipped.sh
#   1. The line along the frame's border gone (the loss network now sees the picture inside
#      a reflected margin, not rolled), the 2x2 colour grid held back (--grid-weight), faces
#      weighted (--faces, --face-weight). It lost what retune_shipped.sh had given single
#      styles: Mondrian flickered 2.66x the clip's own, colours drifted from the paintings'.
#   2. So again with those styles' weights (retune_shipped.sh's last ones) and the colour term.
#   3-5. Steadier at full size, norm rows only: the Starry Night, the Great Wave and
#      Composition VII flickered 2.75-2.86x the clip's own there after stage 2.
# The per-style weights live here, not in paintings.json, as in retune_shipped.sh: they were
# tuned on the lite network, and paintings.json also trains the standard one.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${SHARED:-../shared}
python=${PYTHON:-python3}
network=livestyle/shipped_styles/paintings.lite.safetensors
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
common=(--paintings-dir "$shared/styles" --data "$shared/photos" --variant lite --size 192
  --batch 4 --threads 1 --grid-weight 15 --face-weight 3
  --faces benchmarks/quality/shared_photos_faces.json)

# manifest OUT SPEC [only]: paintings.json with SPEC's settings ("name:key=value,...;...");
# with `only`, just the named entries (for --retune).
manifest() {
  "$python" - "$@" <<'EOF'
import json, sys
out, spec, *only = sys.argv[1:]
entries = json.load(open("livestyle/shipped_styles/paintings.json"))
settings = {}
for item in filter(None, spec.split(";")):
    name, _, pairs = item.partition(":")
    settings[name] = {k: float(v) for k, v in (p.split("=") for p in filter(None, pairs.split(",")))}
chosen = [e | settings.get(e["name"], {}) for e in entries if not only or e["name"] in settings]
json.dump(chosen, open(out, "w"))
EOF
}
# retune STEPS SPEC [OPTION...]: those styles' norm rows trained again from where they are
# (the options after SPEC are added to the run's, later ones overriding earlier).
retune() {
  manifest "$work/retune.json" "$2" only
  OMP_NUM_THREADS=1 "$python" -m livestyle train --manifest "$work/retune.json" "${common[@]}" \
    --color-weight 1 --lr 3e-4 --steps "$1" --add-to "$network" --retune \
    --run-dir "$work/retune" --out "$work/retuned.safetensors" "${@:3}"
  mv "$work/retuned.safetensors" "$network"
  rm -rf "$work/retune"
}

# The network before stage 1 (zero padding, issue 24).
git show e6bd024:livestyle/shipped_styles/paintings.lite.safetensors > "$work/before.safetensors"

# 1. 28 minutes: 2,195 steps on an AMD EPYC beside another run.
OMP_NUM_THREADS=1 "$python" -m livestyle train --manifest livestyle/shipped_styles/paintings.json \
  "${common[@]}" --init-from "$work/before.safetensors" --lr 5e-4 --steps 1000000 \
  --max-minutes 28 --run-dir "$work/stage1" --out "$work/stage1.safetensors"
# 2. 30 minutes: 2,448 steps.
weights="starry_night:temporal_weight=15;great_wave:style_weight=6;grande_jatte:style_weight=5"
weights+=";impression_sunrise:style_weight=4;water_lilies:temporal_weight=50"
weights+=";mondrian:temporal_weight=50"
manifest "$work/stage2.json" "$weights"
OMP_NUM_THREADS=1 "$python" -m livestyle train --manifest "$work/stage2.json" "${common[@]}" \
  --color-weight 1 --init-from "$work/stage1.safetensors" --lr 3e-4 --steps 1000000 \
  --max-minutes 30 --run-dir "$work/stage2" --out "$network"
# 3-5. Each step's temporal weights where the last left too much flicker at full size.
retune 1500 "starry_night:temporal_weight=30;great_wave:style_weight=6,temporal_weight=15;composition_vii:temporal_weight=15"
retune 1000 "starry_night:temporal_weight=45;great_wave:style_weight=6,temporal_weight=25;composition_vii:temporal_weight=25"
retune 800 "great_wave:style_weight=6,temporal_weight=40;mondrian:temporal_weight=65"
# 6-9. Marks on flat areas (benchmarks/RESULTS.md, round seven): the canvas grain as a 4th
#   input, and the style term asked again of each ninth of a crop where it is a wall blurred
#   flat, so marks there can only come from the grain; faces seen from the side boxed too.
#   6. 45 minutes: 3,927 steps beside another run. 7. Five styles steadier at full size again.
#   8. Every style's colours back to its painting's (the grain run had paled them), which
#   unsteadied the five again: 9. their temporal weights doubled, the colour term kept.
#   10. The Grande Jatte, which stage 8 had left at 2.56x at full size, likewise (temporal
#   weight 15 left it at 2.54x; 60 took it to 2.30x; run on 2 threads, so its steps differ).
marks=(--grain 8 --local-style-weight 8 --flat-patches 0.8 --local-style-where flat
  --faces benchmarks/quality/shared_photos_faces_profiles.json)
weights+=";starry_night:temporal_weight=45;great_wave:style_weight=6,temporal_weight=40"
weights+=";composition_vii:temporal_weight=25;mondrian:temporal_weight=65"
manifest "$work/stage6.json" "$weights"
OMP_NUM_THREADS=1 "$python" -m livestyle train --manifest "$work/stage6.json" "${common[@]}" \
  "${marks[@]}" --color-weight 1 --init-from "$network" --lr 3e-4 --steps 1000000 \
  --max-minutes 45 --run-dir "$work/stage6" --out "$work/stage6.safetensors"
mv "$work/stage6.safetensors" "$network"
five="starry_night:temporal_weight=110;great_wave:style_weight=6,temporal_weight=100"
five+=";composition_vii:temporal_weight=60;mondrian:temporal_weight=160;edtaonisl:temporal_weight=25"
retune 1200 "$five" "${marks[@]}"
all="$five;grande_jatte:style_weight=5;impression_sunrise:style_weight=4"
all+=";water_lilies:temporal_weight=50;udnie:;the_scream:;adele:;shipwreck:"
retune 900 "$all" "${marks[@]}" --color-weight 8
five2="starry_night:temporal_weight=220;great_wave:style_weight=6,temporal_weight=200"
five2+=";composition_vii:temporal_weight=120;mondrian:temporal_weight=320;edtaonisl:temporal_weight=50"
retune 800 "$five2" "${marks[@]}" --color-weight 8
retune 700 "grande_jatte:style_weight=5,temporal_weight=60" "${marks[@]}" --color-weight 8
# 11. Composition VII's stroke scale 1.5 -> 1 on this network, its tensors unchanged
#   (benchmarks/RESULTS.md, round ten): at 320 px live its patches are denser and more angular
#   (flat marks 4.5 -> 5.7), as steady (1.83x live) and faces as readable; the standard network
#   keeps 1.5 (at 640 px it paints chips). paintings.json says so per variant.
# 12. The Starry Night's own marks 0.4 (round twelve): its swirls and dabs crisper where the
#   picture is scaled up (livestyle.brushwork.amount), its flicker on a 640 px clip at the live
#   320 px 1.42x -> 1.75x in float32, 1.57x -> 1.94x in int8; its tensors unchanged.
# 13. Ink 1 for the Starry Night, the Great Wave, Composition VII and the Scream (round
#   fourteen, livestyle/ink.py): dark lines on the picture's edges at the frame's resolution
#   and 1.2x colour, which blind judges preferred (4-5 of 5 rows; Composition VII 0-2); the
#   Grande Jatte lost every row with it. Tensors unchanged.
# 14. Colour 1 for Composition VII (round fifteen, StyleInfo.colour): saturation 1.6x and
#   contrast 1.2x where the picture is scaled up, which six fresh blind judges preferred in 5,
#   4, 4, 2, 3 and 3 of 5 rows (ink's 1.2x alone: 2 and 0). Tensors unchanged.
# 15. Dots 1 for the Grande Jatte (round sixteen, livestyle/dots.py): the picture rebuilt from
#   flat dots of its colour at the frame's resolution, which three fresh blind judges
#   preferred in 2, 2 and 2 of 5 rows (before: 0, 0 and 0). Tensors unchanged.
#   Adele's own marks 0.5, ink 1 and colour 1 are set here too (round twenty-one): six fresh
#   blind judges preferred them in 5 of 5 rows each (before: 2, 4 and 1). Tensors unchanged.
#   Mondrian's own marks 1 (round twenty-two) go with step 18's retune, which was judged with them.
"$python" - "$network" <<'PY'
import sys
from livestyle.train.paintings import read_manifest
from livestyle.weights import load_network, read_training, save_network
from pathlib import Path
path = sys.argv[1]
wanted = {p.name: p for p in read_manifest(
    Path("livestyle/shipped_styles/paintings.json"), check_files=False)}
model, infos = load_network(path)
for info in infos:
    info.stroke_scale = wanted[info.name].stroke_scale_for("lite")
    info.marks = wanted[info.name].marks_for("lite")
    info.ink = wanted[info.name].ink_for("lite")
    info.colour = wanted[info.name].colour_for("lite")
    info.dots = wanted[info.name].dots_for("lite")
save_network(path, model, infos, read_training(path))
PY
# 16. Composition VII's norm rows again (round nineteen): style weight 5, temporal weight 90
#   (was 3 and 120). Round eighteen's flicker measure stopped charging still walls for the
#   optical flow's guesses, and the weight chosen under the old one held back the marks the
#   judges missed ("an orange-tinted photo"); six fresh blind judges preferred it in 5, 5,
#   3, 4, 5 and 4 of 5 rows (the style before, in the same sitting: 4, 3, 3), the talking head at
#   full size 1.78x -> 2.32x the clip's own (2.50x in int8). 800 steps, 18 minutes.
retune 800 "composition_vii:style_weight=5,temporal_weight=90" "${marks[@]}" --color-weight 8
# 17. Edtaonisl's norm rows again (round twenty-one): style weight 6, temporal weight 45 (was
#   3 and 50, raised for the flicker measure before round eighteen's fix); nine fresh blind
#   judges preferred it in 22 of 45 rows (as before: 1 of 15), the talking head at full size
#   1.84x -> 2.48x the clip's own in int8. 800 steps, 4 minutes on a Zen 5 AMD EPYC.
retune 800 "edtaonisl:style_weight=6,temporal_weight=45" "${marks[@]}" --color-weight 8
# 18. Mondrian's norm rows again (round twenty-two): style weight 10, temporal weight 600
#   (was 3 and 320) and the painting seen at 320 px (`--style-size`; at the run's 192 px crop it
#   was 160 px, its small rectangles 4-6 px and its dark bars under one), so the style draws the
#   painting's rectangles with dark edges where it laid a few ochre spots; with its marks 1
#   (step 15) six fresh blind judges preferred it in 5 of 5 rows each (as before: 5, 0, 0), the
#   talking head at full size 1.53x -> 2.11x the clip's own in int8. 800 steps, 4 minutes.
retune 800 "mondrian:style_weight=10,temporal_weight=600" "${marks[@]}" --color-weight 8 \
  --style-size 320
# 19. Edtaonisl's norm rows again, as Mondrian's in step 18 (round twenty-two): style weight 10,
#   temporal weight 600, the painting at 320 px, so its large flat planes come out as planes
#   (grey, orange and black shards, where step 17 left "a photo with small orange shards"); six
#   fresh blind judges preferred it in 5 of 5 rows each (step 17's: 22 of 45 over nine), the
#   talking head at full size 2.48x -> 1.56x the clip's own in int8. 800 steps, 4 minutes.
retune 800 "edtaonisl:style_weight=10,temporal_weight=600" "${marks[@]}" --color-weight 8 \
  --style-size 320
# 20. The Starry Night's norm rows again (round twenty-two): style weight 8, temporal weight 600
#   (was 4 and 220), the painting at 320 px: larger blue and yellow swirls over the picture where
#   judges had called ours "smoother, more like a filter"; six fresh blind judges preferred it
#   in 5, 5, 4, 5, 4 and 4 of 5 rows (as shipped, in the same sitting: 3, 5, 3 and 5), the
#   talking head at full size 1.89x -> 1.99x the clip's own in int8. 800 steps, 4 minutes.
retune 800 "starry_night:style_weight=8,temporal_weight=600" "${marks[@]}" --color-weight 8 \
  --style-size 320
# 21. Composition VII's norm rows again at step 16's weights, with the painting also at 320 px
#   (`--also-style-size`: each style target the mean of both sizes' Grams; round twenty-two):
#   larger, bolder colour shapes beside the fine ones; six fresh blind judges preferred it in
#   5 of 5 rows each (as shipped, in the same sitting: 5, 5 and 4), Tears of Steel 2.52x ->
#   2.49x the clip's own in int8. 800 steps, 4 minutes.
retune 800 "composition_vii:style_weight=5,temporal_weight=90" "${marks[@]}" --color-weight 8 \
  --also-style-size 320
