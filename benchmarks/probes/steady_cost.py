"""What steady video (livestyle.steady.Steadier) costs per frame on the host: uint8 frames at
640x480, 1280x720 and 1920x1080, the input changing a little between frames as a still
camera's does. Best of 5 rounds of 50 frames.

Run: python benchmarks/probes/steady_cost.py
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.bench.timing import Call, time_calls
from livestyle.steady import Steadier

SIZES = ((640, 480), (1280, 720), (1920, 1080))


def steadying(frames: list[np.ndarray], stylized: list[np.ndarray]) -> Call:
    """One frame a call through one Steadier, the frames taking turns."""
    steadier = Steadier()
    return lambda i: steadier(frames[i % len(frames)], stylized[i % len(stylized)])


def main() -> None:
    cv2.setNumThreads(1)  # as the inference thread shares the machine
    rng = np.random.default_rng(0)
    for width, height in SIZES:
        scene = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        frames = [cv2.add(scene, rng.integers(0, 4, scene.shape, dtype=np.uint8)) for _ in range(4)]
        stylized = [rng.integers(0, 256, scene.shape, dtype=np.uint8) for _ in range(4)]
        call = steadying(frames, stylized)
        rounds = [time_calls(call, runs=50).mean_ms for _ in range(5)]
        print(f"{width}x{height}: {min(rounds):.2f} ms a frame")


if __name__ == "__main__":
    main()
