"""Where a CPU frame's time goes around the network: each step of the torch frame path
(engines.frames.stylize_frame on one torch thread) timed alone, then the whole torch and
OpenCV paths (engines.host_frames), the network swapped for an identity so only the
frame's own work is left, beside the steadier.

    python benchmarks/probes/frame_path_cost.py [--sizes 1280x720 640x480] [--net-side 160]

Prints the median milliseconds of each step over `--rounds` interleaved rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from livestyle.engines import frames, host_frames
from livestyle.steady import Steadier


def steps(frame: np.ndarray, net_shape: tuple[int, int]) -> dict[str, Callable[[], object]]:
    tensor = torch.from_numpy(frame)
    x = frames.bgr_to_input(tensor, torch.float32)
    small = F.interpolate(x, size=net_shape, mode="bilinear", antialias=True, align_corners=False)
    y = small.clone()
    up = frames.guided_upscale(y, small, x)
    steadier = Steadier()
    host = host_frames.HostFrames()
    steadier(frame, frame)
    return {
        "uint8 -> float input": lambda: frames.bgr_to_input(tensor, torch.float32),
        "downscale (antialias)": lambda: F.interpolate(
            x, size=net_shape, mode="bilinear", antialias=True, align_corners=False
        ),
        "guided upscale": lambda: frames.guided_upscale(y, small, x),
        "plain upscale": lambda: F.interpolate(
            y, size=frame.shape[:2], mode="bilinear", align_corners=False
        ),
        "float -> uint8 output": lambda: frames.output_to_bgr(up),
        "whole path, identity net": lambda: frames.stylize_frame(
            tensor, lambda t: t, torch.float32, net_shape, None, False, guided=True
        ),
        "whole host path (OpenCV)": lambda: host.stylize(
            frame, lambda t: t, torch.float32, net_shape, None, guided=True
        ),
        "host path, full-size net": lambda: host.stylize(
            frame, lambda t: t, torch.float32, frame.shape[:2], None
        ),
        "torch path, full-size net": lambda: frames.stylize_frame(
            tensor, lambda t: t, torch.float32, frame.shape[:2], None, False
        ),
        "steadier (cv2)": lambda: steadier(frame, frame),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1280x720", "640x480"])
    parser.add_argument("--net-side", type=int, default=160)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    for size in args.sizes:
        width, height = (int(v) for v in size.split("x"))
        frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        scale = args.net_side / max(width, height)
        net_shape = (round(height * scale), round(width * scale))
        table = steps(frame, net_shape)
        times: dict[str, list[float]] = {name: [] for name in table}
        for _ in range(args.rounds):
            for name, step in table.items():
                start = time.perf_counter()
                step()
                times[name].append((time.perf_counter() - start) * 1000.0)
        print(f"{size}, network {net_shape[1]}x{net_shape[0]}, torch 1 thread:")
        for name, values in times.items():
            print(f"  {name:28s} {statistics.median(values):7.2f} ms")


if __name__ == "__main__":
    main()
