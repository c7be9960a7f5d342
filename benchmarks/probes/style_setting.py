"""A copy of a style file with one style's own setting changed (its ink, colour, marks, dots or
stroke scale), tensors untouched: what `--styles-dir` is given to weigh a setting before
paintings.json and finetune_shipped.sh change for it. Round nineteen (benchmarks/RESULTS.md)
gave Composition VII the dots' layout as facets this way.

Run: python benchmarks/probes/style_setting.py OUT_DIR composition_vii dots 0.6 \
    [--file livestyle/shipped_styles/paintings.lite.safetensors]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livestyle.discovery import PACKAGE_WEIGHTS_DIR
from livestyle.weights import load_network, read_training, save_network

SHIPPED_LITE = PACKAGE_WEIGHTS_DIR / "paintings.lite.safetensors"
SETTINGS = ("ink", "colour", "marks", "dots", "stroke_scale")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("style")
    parser.add_argument("setting", choices=SETTINGS)
    parser.add_argument("value", type=float)
    parser.add_argument("--file", type=Path, default=SHIPPED_LITE)
    args = parser.parse_args()
    model, infos = load_network(args.file)
    chosen = [info for info in infos if info.name == args.style]
    if not chosen:
        sys.exit(f"{args.file} has no style {args.style}")
    setattr(chosen[0], args.setting, args.value)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    target = args.out_dir / args.file.name
    save_network(target, model, infos, read_training(args.file))
    print(f"{target}: {args.style}'s {args.setting} {args.value}")


if __name__ == "__main__":
    main()
