"""What the style strip (G) costs per frame: 640x480 demo frames, the shipped styles, the
network at 320 px on the CPU as the live app runs it; the main frame alone, and the main
frame plus the one thumbnail the inference thread makes after it (128 px wide, the next
style in turn). Medians of 20 frames, 6 rounds each, the two kinds taking turns: read the
best rounds on a busy machine.

Run: python benchmarks/probes/strip_cost.py [--backend auto|torch|onnxruntime]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from livestyle.bench.timing import Call, time_rounds
from livestyle.discovery import load_styles, scan_styles, shipped_styles_dir
from livestyle.live.thumbnails import ThumbnailRound
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

FRAMES, ROUNDS = 20, 6


def taking_turns(step: Callable[[np.ndarray], object], frames: list[np.ndarray]) -> Call:
    return lambda i: step(frames[i % len(frames)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    styles = load_styles(scan_styles([shipped_styles_dir()], prefer_variant="lite"))
    stylizer = Stylizer(styles, "cpu", backend=args.backend, infer_size=320)
    thumbnails = ThumbnailRound()
    thumbnails.show(True)
    source = DemoSource(640, 480)
    frames = [source.read() for _ in range(10)]

    def with_thumbnail(frame: np.ndarray) -> None:
        stylizer.stylize(frame)
        thumbnails.make(stylizer, frame, 0)

    kinds = {
        "main frame": stylizer.stylize,
        "main + thumbnail": with_thumbnail,
        "thumbnail alone": lambda frame: thumbnails.make(stylizer, frame, 0),
    }
    calls = {kind: taking_turns(step, frames) for kind, step in kinds.items()}
    found = time_rounds(calls, rounds=ROUNDS, runs=FRAMES, warmup=1)
    print(f"{len(styles)} styles, backend {stylizer.backend}, network 320x240, thumbnail 128x96")
    for kind, rounds in found.items():
        print(
            f"{kind:17s} best {rounds.best_ms:5.1f} ms, median {rounds.median_ms:5.1f} ms "
            f"({rounds.ms_list()})"
        )


if __name__ == "__main__":
    main()
