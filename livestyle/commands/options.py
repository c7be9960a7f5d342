"""Options and loaders shared by the commands: value types, style options, the Stylizer."""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livestyle.bounds import (
    OutOfBounds,
    marks_amount,
    network_side,
    pixel_side,
    positive_whole,
    unit_interval,
)
from livestyle.choices import choose_styles, parse_style_choice
from livestyle.config import StyleOptions
from livestyle.core.errors import LivestyleError
from livestyle.discovery import (
    default_style_dirs,
    live_styles,
    load_styles,
    scan_styles,
    user_styles_dir,
)
from livestyle.engines.device import pick_device, preferred_variant
from livestyle.model import VARIANTS
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.weights import STROKE_SCALES, StyleInfo
from livestyle.weights import stroke_scale as checked_stroke_scale

log = logging.getLogger(__name__)

# Upper bound that catches typos (an extra zero) before it sets a capture rate.
MAX_FPS = 1000.0


@contextmanager
def _bounded() -> Iterator[None]:
    """The bounds' own message, as argparse prints an ArgumentTypeError's. A text that is no
    number at all keeps argparse's 'invalid TYPE value' (the ValueError of int()/float())."""
    try:
        yield
    except OutOfBounds as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# The argparse types below are named for argparse's "invalid NAME value" messages.
def positive_int(text: str) -> int:
    with _bounded():
        return positive_whole(text)


def pixel_size(text: str) -> int:
    with _bounded():
        return pixel_side(text)


def infer_pixels(text: str) -> int:
    """--infer-size: the network's smallest input (reflection padding) up to MAX_PIXELS_SIDE."""
    with _bounded():
        return network_side(text)


def positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < math.inf:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def frame_rate(text: str) -> float:
    value = positive_float(text)
    if value > MAX_FPS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_FPS:g} fps, got {text}")
    return value


def unit_float(text: str) -> float:
    with _bounded():
        return unit_interval(text)


def marks_float(text: str) -> float:
    with _bounded():
        return marks_amount(text)


def scale_float(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:  # 0 would shrink every frame to the 4-pixel minimum
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def stroke_scale(text: str) -> float:
    """--stroke-scale: the bounds a style's own stroke scale has (weights.stroke_scale)."""
    value = float(text)  # not a number: argparse says so
    try:
        return checked_stroke_scale(value)
    except ValueError:
        low, high = STROKE_SCALES
        raise argparse.ArgumentTypeError(
            f"must be between {low:g} and {high:g}, got {text}"
        ) from None


def existing_dir(text: str) -> Path:
    """A folder that exists: a typo in --styles-dir must not quietly load no extra styles."""
    path = Path(text)
    if not path.is_dir():
        reason = "not a folder" if path.exists() else "no such folder"
        raise argparse.ArgumentTypeError(f"{text}: {reason}")
    return path


def add_styles_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--styles-dir",
        type=existing_dir,
        action="append",
        default=[],
        help="extra folder of .safetensors styles (repeatable)",
    )


def add_variant_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--variant",
        choices=("auto", *VARIANTS),
        default="auto",
        help="network variant when a style has several (auto: by device)",
    )


def add_style_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs styles."""
    add_styles_dir_option(parser)
    add_variant_option(parser)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--precision",
        choices=("auto", "fp16", "fp32", "int8"),
        default="auto",
        help="auto: fp16 on CUDA; on a CPU int8 where it is faster there and its pictures "
        "stay close to fp32's, else fp32 (int8: ONNX Runtime on the CPU)",
    )
    parser.add_argument(
        "--infer-size",
        type=infer_pixels,
        default=None,
        metavar="PX",
        help="run the network with the frame's long side at PX, then scale up",
    )
    # Defaults of None say "not given": live's saved settings fill in only what was not.
    parser.add_argument(
        "--infer-scale",
        type=scale_float,
        default=None,
        metavar="S",
        help="run the network at this fraction of the frame size (default 1)",
    )
    parser.add_argument(
        "--strength",
        type=unit_float,
        default=None,
        help="blend of stylized over original, 0..1 (default 1)",
    )
    parser.add_argument(
        "--preserve-color",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the picture's own colours and take only the painting's light, dark and "
        "brushwork (key C live)",
    )
    parser.add_argument(
        "--marks",
        type=marks_float,
        default=None,
        metavar="AMOUNT",
        help="bolder brushwork: the network's marks made 1 + AMOUNT times as strong, 0..2 "
        "(key B live: 0, 0.5, 1); more marks on walls and skies, and more shimmer on video "
        "(default 0; added to a style's own, which `livestyle styles` lists)",
    )
    parser.add_argument(
        "--guided",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="when the network runs smaller than the frame, scale its picture up with the "
        "frame's own fine detail (eyes, hair, glasses); --no-guided: plain scaling "
        "(default: on)",
    )
    parser.add_argument(
        "--steady",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="video: smooth the stylized picture over time where the input stands still, "
        "so brushwork does not shimmer on a still face; --no-steady: every frame on its own "
        "(default: on)",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "torch", "onnxruntime"),
        default="auto",
        help="auto: ONNX Runtime on the CPU when installed, CUDA graphs on CUDA; "
        "torch: plain PyTorch",
    )


def style_options_from_args(args: argparse.Namespace, style: str | None = None) -> StyleOptions:
    """The options add_style_options added, as parsed, and the style to start with (--style,
    for the commands whose --style names one)."""
    return StyleOptions(
        styles_dirs=tuple(args.styles_dir),
        style=style,
        variant=args.variant,
        device=args.device,
        precision=args.precision,
        backend=args.backend,
        infer_size=args.infer_size,
        infer_scale=args.infer_scale,
        strength=args.strength,
        preserve_color=args.preserve_color,
        marks=args.marks,
        guided=args.guided,
    )


def chosen_styles(found: list[StyleInfo], choice: str) -> list[StyleInfo]:
    """The styles `choice` (--style) names, or all of `found` when one of its names is not
    there: choose_styles then says which, listing every installed style."""
    wanted = {name for name, _ in parse_style_choice(choice)}
    chosen = [info for info in found if info.name in wanted]
    return chosen if len(chosen) == len(wanted) else found


def load_stylizer(options: StyleOptions, live: bool = False, only_chosen: bool = False) -> Stylizer:
    """Find and load every installed style for the device; raise a one-line error if none.

    `live`: only styles fast enough for the live view on this device (discovery.live_styles).
    `only_chosen`: only the styles --style names, for a command that never changes style
    (the int8 network is then calibrated and checked on those alone: a second less)."""
    device = pick_device(options.device)
    variant = preferred_variant(device, options.variant)
    dirs = [*options.styles_dirs, *default_style_dirs()]
    for folder in options.styles_dirs:
        if not folder.is_dir():
            raise LivestyleError(f"styles folder {folder} does not exist")
    found = scan_styles(dirs, prefer_variant=variant)
    if only_chosen and options.style:
        found = chosen_styles(found, options.style)
    styles = load_styles(live_styles(found, variant) if live else found)
    if not styles:
        raise LivestyleError(
            f"no styles installed: put .safetensors styles in {user_styles_dir()} "
            "or train one with 'livestyle train --style-image PAINTING --data PHOTOS --name NAME'"
        )
    try:
        stylizer = Stylizer(
            styles,
            device,
            options.precision,
            network_size=NetworkSize(options.infer_size, options.infer_scale or 1.0),
            strength=1.0 if options.strength is None else options.strength,
            preserve_color=bool(options.preserve_color),
            guided=options.guided,
            marks=options.marks or 0.0,
            backend=options.backend,
        )
    except ValueError as exc:  # e.g. --backend onnxruntime with --device cuda
        raise LivestyleError(f"backend: {exc}") from exc
    if options.style:
        choose_styles(stylizer, options.style)
    log.debug("%d styles on %s (%s)", len(stylizer.styles), stylizer.device, stylizer.dtype)
    return stylizer
