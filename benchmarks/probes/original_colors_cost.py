"""What original colours (C, --preserve-color) cost per frame: 640x480 demo frames, network at
320 px, ONNX engine on the CPU, as the live app runs them: without the colour step, with it
at the network's size (what livestyle does), and with it at the frame's size (the
alternative it was measured against). Medians of 20 frames, 8 rounds: read the best rounds.

Run: python benchmarks/probes/original_colors_cost.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from livestyle.bench.timing import time_rounds
from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.engines.frames import (
    bgr_to_input,
    keep_colors,
    output_to_bgr,
    stylize_frame,
    torch_threads,
)
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

NET_SHAPE = (240, 320)
KINDS = ("without", "at network size", "at frame size")


def at_frame_size(frame: torch.Tensor, net) -> torch.Tensor:
    """stylize_frame with the colour step after scaling up instead of before."""
    x = bgr_to_input(frame, torch.float32)
    small = F.interpolate(x, size=NET_SHAPE, mode="bilinear", antialias=True)
    y = F.interpolate(net(small), size=frame.shape[:2], mode="bilinear", align_corners=False)
    return output_to_bgr(keep_colors(x, y, True))


def one_frame(kind: str, frame: torch.Tensor, net) -> torch.Tensor:
    with torch_threads(1):  # as the ONNX engine runs torch
        if kind == "at frame size":
            return at_frame_size(frame, net)
        keep = kind == "at network size"
        return stylize_frame(frame, net, torch.float32, NET_SHAPE, None, False, keep)


def main() -> None:
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="lite"))
    stylizer = Stylizer(styles, "cpu", backend="onnxruntime")
    net = stylizer.engine.network(0)
    source = DemoSource(640, 480)
    frames = [torch.from_numpy(source.read()) for _ in range(10)]
    calls = {kind: (lambda i, kind=kind: one_frame(kind, frames[i % 10], net)) for kind in KINDS}
    for kind, rounds in time_rounds(calls, rounds=8, runs=20, warmup=1).items():
        print(
            f"{kind:16s} best {rounds.best_ms:5.1f} ms, median {rounds.median_ms:5.1f} ms "
            f"({rounds.ms_list()})"
        )


if __name__ == "__main__":
    main()
