"""`livestyle styles`: list installed styles with their key numbers and metadata."""

from __future__ import annotations

import argparse

from livestyle.commands.options import add_styles_dir_option, add_variant_option
from livestyle.engines.device import pick_device, preferred_variant
from livestyle.weights import default_style_dirs, scan_styles, user_styles_dir


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("styles", help="list installed styles")
    add_styles_dir_option(p)
    add_variant_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    variant = preferred_variant(pick_device(), args.variant)
    styles = scan_styles([*args.styles_dir, *default_style_dirs()], prefer_variant=variant)
    if not styles:
        print(
            f"no styles installed. Put .safetensors styles in {user_styles_dir()}, or train "
            "one: livestyle train --style-image PAINTING --data PHOTOS_DIR --name NAME"
        )
        return 0
    for key, info in enumerate(styles, start=1):
        label = str(key) if key <= 9 else "-"
        licence = f" [{info.licence}]" if info.licence else ""
        strokes = f"  strokes {info.stroke_scale:g}x" if info.stroke_scale != 1 else ""
        print(f"{label:>2}  {info.describe()}{licence}  {info.variant}{strokes}  {info.path}")
    return 0
