"""`livestyle styles`: list installed styles with their key numbers and metadata.

It lists what the live window loads, numbered as the window's keys number them: files that
would not load are left out (with a warning), and so are styles a name clash hides (a line
says which).
"""

from __future__ import annotations

import argparse

from livestyle.commands.options import add_styles_dir_option, add_variant_option
from livestyle.config import StylesConfig
from livestyle.discovery import default_style_dirs, find_styles, too_slow_live, user_styles_dir
from livestyle.engines.device import pick_device, preferred_variant
from livestyle.weights import StyleInfo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("styles", help="list installed styles")
    add_styles_dir_option(p)
    add_variant_option(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> StylesConfig:
    return StylesConfig(styles_dirs=tuple(args.styles_dir), variant=args.variant)


def run(args: argparse.Namespace) -> int:
    return list_styles(config_from_args(args))


def list_styles(config: StylesConfig) -> int:
    variant = preferred_variant(pick_device(), config.variant)
    found = find_styles([*config.styles_dirs, *default_style_dirs()], prefer_variant=variant)
    if not found.styles:
        print(
            f"no styles installed. Put .safetensors styles in {user_styles_dir()}, or train "
            "one: livestyle train --style-image PAINTING --data PHOTOS_DIR --name NAME"
        )
        return 0
    # Live, these are left out (discovery.live_styles): they get no key, and take none.
    slow = {id(info) for info in too_slow_live(found.styles, variant)}
    key = 0
    for info in found.styles:
        key += id(info) not in slow
        label = str(key) if key <= 9 and id(info) not in slow else "-"
        note = "  (not live on this device: standard only)" if id(info) in slow else ""
        print(f"{label:>2}  {describe(info)}{note}")
    for clash in found.clashes:
        print(f"note: {clash.describe()}")
    return 0


def describe(info: StyleInfo) -> str:
    """A style's line without its key: name, painting, licence, variant, strokes, marks, ink,
    colour, dots, file."""
    licence = f" [{info.licence}]" if info.licence else ""
    strokes = f"  strokes {info.stroke_scale:g}x" if info.stroke_scale != 1 else ""
    marks = f"  marks +{info.marks:.0%}" if info.marks else ""
    ink = f"  ink {info.ink:.0%}" if info.ink else ""
    colour = f"  colour +{info.colour:.0%}" if info.colour else ""
    dots = f"  dots {info.dots:.0%}" if info.dots else ""
    own = f"{strokes}{marks}{ink}{colour}{dots}"
    return f"{info.describe()}{licence}  {info.variant}{own}  {info.path}"
