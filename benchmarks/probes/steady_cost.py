"""What steady video (livestyle.steady.Steadier) costs per frame on the host: uint8 frames at
640x480, 1280x720 and 1920x1080, the input changing a little between frames as a still
camera's does. Best of 5 rounds of 50 frames.

Run: python benchmarks/probes/steady_cost.py
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from livestyle.steady import Steadier

SIZES = ((640, 480), (1280, 720), (1920, 1080))


def main() -> None:
    cv2.setNumThreads(1)  # as the inference thread shares the machine
    rng = np.random.default_rng(0)
    for width, height in SIZES:
        scene = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        frames = [cv2.add(scene, rng.integers(0, 4, scene.shape, dtype=np.uint8)) for _ in range(4)]
        stylized = [rng.integers(0, 256, scene.shape, dtype=np.uint8) for _ in range(4)]
        steadier = Steadier()
        rounds = []
        for _ in range(5):
            began = time.perf_counter()
            for i in range(50):
                steadier(frames[i % 4], stylized[i % 4])
            rounds.append((time.perf_counter() - began) / 50 * 1000)
        print(f"{width}x{height}: {min(rounds):.2f} ms a frame")


if __name__ == "__main__":
    main()
