"""`livestyle eval-stability`: flicker of styles on a clip, as a Markdown table."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from livestyle.commands.options import add_style_options, load_stylizer
from livestyle.core.errors import LivestyleError, SourceError
from livestyle.stability import measure_flicker, read_clip
from livestyle.steady import Steadier


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


def run(args: argparse.Namespace) -> int:
    if args.max_frames < 2 or args.long_side < 16:
        raise SourceError("--max-frames must be at least 2 and --long-side at least 16")
    frames = read_clip(args.video, args.max_frames, args.long_side)
    stylizer = load_stylizer(args)
    names = args.styles
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
    print(f"{args.video.name}: {len(frames)} frames at {width}x{height}\n")
    print("| style | flicker (stylized) | flicker (input) | ratio | reliable px |")
    print("| --- | ---: | ---: | ---: | ---: |")
    results = {}
    for name, index in zip(names, indices, strict=True):
        steadier = Steadier() if args.steady else None  # as the live view and stylize do
        outputs = []
        for frame in tqdm(frames, desc=name, unit="frame", leave=False):
            image = stylizer.stylize(frame, index=index).image
            outputs.append(steadier(frame, image) if steadier else image)
        result = measure_flicker(frames, outputs)
        results[name] = asdict(result) | {"ratio": result.ratio}
        print(
            f"| {name} | {result.stylized:.2f} | {result.input:.2f} | {result.ratio:.2f} "
            f"| {result.reliable_fraction:.0%} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0
