"""`livestyle eval-stability`: flicker of styles on a clip, as a Markdown table."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from livestyle.commands.options import add_style_options, load_stylizer, style_options_from_args
from livestyle.config import StabilityConfig
from livestyle.core.errors import LivestyleError, SourceError
from livestyle.stability import measure_flicker, read_clip
from livestyle.steady import SteadyStream


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-stability", help="measure how much a style flickers on a clip")
    p.add_argument("--video", type=Path, required=True, help="video clip")
    p.add_argument(
        "--style",
        dest="styles",
        action="append",
        required=True,
        help="style name (repeatable; 'all' for every installed style)",
    )
    p.add_argument("--max-frames", type=int, default=90, help="frames to use from the start")
    p.add_argument("--long-side", type=int, default=480, help="scale frames down to this")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    add_style_options(p)
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> StabilityConfig:
    return StabilityConfig(
        video=args.video,
        styles=tuple(args.styles),
        max_frames=args.max_frames,
        long_side=args.long_side,
        json_path=args.json,
        style_options=style_options_from_args(args),  # its --style lists what is measured
        steady=args.steady,
    )


def run(args: argparse.Namespace) -> int:
    return run_stability(config_from_args(args))


def run_stability(config: StabilityConfig) -> int:
    if config.max_frames < 2 or config.long_side < 16:
        raise SourceError("--max-frames must be at least 2 and --long-side at least 16")
    frames = read_clip(config.video, config.max_frames, config.long_side)
    stylizer = load_stylizer(config.style_options)
    names = list(config.styles)
    if names == ["all"]:
        names = [s.info.name for s in stylizer.styles]
    indices = []
    for name in names:
        try:
            indices.append(stylizer.find(name))
        except KeyError:
            installed = ", ".join(s.info.name for s in stylizer.styles)
            raise LivestyleError(f"unknown style '{name}' (installed: {installed})") from None
    height, width = frames[0].shape[:2]
    print(f"{config.video.name}: {len(frames)} frames at {width}x{height}\n")
    print("| style | flicker (stylized) | flicker (input) | ratio | reliable px |")
    print("| --- | ---: | ---: | ---: | ---: |")
    results = {}
    for name, index in zip(names, indices, strict=True):
        stream = SteadyStream(stylizer, config.steady)  # as the live view and stylize do
        outputs = [
            stream(frame, index).image
            for frame in tqdm(frames, desc=name, unit="frame", leave=False)
        ]
        result = measure_flicker(frames, outputs)
        results[name] = asdict(result) | {"ratio": result.ratio}
        print(
            f"| {name} | {result.stylized:.2f} | {result.input:.2f} | {result.ratio:.2f} "
            f"| {result.reliable_fraction:.0%} |"
        )
    if config.json_path:
        config.json_path.write_text(json.dumps(results, indent=2))
    return 0
