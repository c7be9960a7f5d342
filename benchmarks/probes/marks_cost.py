"""What bolder brushwork (livestyle.brushwork.bolder, --marks / key B) costs per frame on the
host: uint8 stylized frames at 640x480, 1280x720 and 1920x1080, the band scaled as for a
network at 320 px (the CPU's live size) and at the frame's own size (a GPU's). Best of 5
rounds of 50 frames, one OpenCV thread (as the inference thread shares the machine).

Run: python benchmarks/probes/marks_cost.py
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.bench.timing import Call, time_calls
from livestyle.brushwork import bolder

SIZES = ((640, 480), (1280, 720), (1920, 1080))
NETWORK_SIDE = 320


def boldening(frames: list[np.ndarray], scale: float) -> Call:
    """One frame a call made bolder (amount 1), the frames taking turns."""
    return lambda i: bolder(frames[i % len(frames)], 1.0, scale)


def main() -> None:
    cv2.setNumThreads(1)
    rng = np.random.default_rng(0)
    for width, height in SIZES:
        frames = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(4)]
        for label, scale in (("network 320 px", width / NETWORK_SIDE), ("network full", 1.0)):
            call = boldening(frames, scale)
            rounds = [time_calls(call, runs=50).mean_ms for _ in range(5)]
            print(f"{width}x{height}, {label}: {min(rounds):.2f} ms a frame")


if __name__ == "__main__":
    main()
