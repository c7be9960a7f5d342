"""Options and loaders shared by the commands: value types, style options, the Stylizer."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from livestyle.core.errors import LivestyleError
from livestyle.engines.device import pick_device, preferred_variant
from livestyle.model import MIN_INPUT_SIDE, VARIANTS
from livestyle.stylizer import Stylizer
from livestyle.weights import (
    default_style_dirs,
    live_styles,
    load_styles,
    scan_styles,
    user_styles_dir,
)

log = logging.getLogger(__name__)

# Upper bounds that catch typos (an extra zero) before they allocate gigabytes.
MAX_PIXELS_SIDE = 16384
MAX_FPS = 1000.0


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def pixel_size(text: str) -> int:
    value = positive_int(text)
    if value > MAX_PIXELS_SIDE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PIXELS_SIDE} pixels, got {text}")
    return value


def infer_pixels(text: str) -> int:
    """--infer-size: the network's smallest input (reflection padding) up to MAX_PIXELS_SIDE."""
    value = pixel_size(text)
    if value < MIN_INPUT_SIDE:
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_INPUT_SIDE} pixels, the network's smallest input, got {text}"
        )
    return value


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
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def scale_float(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:  # 0 would shrink every frame to the 4-pixel minimum
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


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
        choices=("auto", "fp16", "fp32"),
        default="auto",
        help="auto: fp16 on CUDA, fp32 elsewhere",
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


def load_stylizer(args: argparse.Namespace, live: bool = False) -> Stylizer:
    """Find and load every installed style for the device; raise a one-line error if none.

    `live`: only styles fast enough for the live view on this device (weights.live_styles)."""
    device = pick_device(args.device)
    variant = preferred_variant(device, args.variant)
    dirs = [*args.styles_dir, *default_style_dirs()]
    for folder in args.styles_dir:
        if not folder.is_dir():
            raise LivestyleError(f"styles folder {folder} does not exist")
    found = scan_styles(dirs, prefer_variant=variant)
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
            args.precision,
            infer_size=args.infer_size,
            infer_scale=args.infer_scale or 1.0,
            strength=1.0 if args.strength is None else args.strength,
            preserve_color=bool(getattr(args, "preserve_color", False)),
            guided=getattr(args, "guided", True),
            backend=getattr(args, "backend", "auto"),
        )
    except ValueError as exc:  # e.g. --backend onnxruntime with --device cuda
        raise LivestyleError(f"backend: {exc}") from exc
    if getattr(args, "style", None):
        choose_styles(stylizer, args.style)
    log.debug("%d styles on %s (%s)", len(stylizer.styles), stylizer.device, stylizer.dtype)
    return stylizer


def parse_style_choice(text: str) -> list[tuple[str, float]]:
    """`name` or a blend `a:0.6,b:0.4` as (name, weight) pairs (a bare name weighs 1)."""
    pairs = []
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise LivestyleError(f"--style {text}: '{weight}' is not a weight") from None
        if not name or not 0 <= value < float("inf"):
            raise LivestyleError(f"--style {text}: expected NAME or NAME:WEIGHT,NAME:WEIGHT")
        pairs.append((name, value))
    if sum(weight for _, weight in pairs) <= 0:
        raise LivestyleError(f"--style {text}: every weight is 0")
    return pairs


def choose_styles(stylizer: Stylizer, text: str) -> None:
    """Select the style --style names, or the blend it lists (one line for unknown names and
    for styles that cannot blend)."""
    pairs = parse_style_choice(text)
    indices = []
    for name, weight in pairs:
        try:
            indices.append((stylizer.find(name), weight))
        except KeyError:
            names = ", ".join(s.info.name for s in stylizer.styles)
            raise LivestyleError(f"unknown style '{name}' (installed: {names})") from None
    if len(indices) > 1 and not stylizer.can_blend([i for i, _ in indices]):
        raise LivestyleError(
            f"--style {text}: only styles of one multi-style network blend "
            "(`livestyle styles` shows which file each style is in)"
        )
    stylizer.blend(indices, fade=False)  # the first frame shows it
