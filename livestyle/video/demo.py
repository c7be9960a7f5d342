"""The built-in demos: `demo`, a looping clip of real footage with a face (the source itself
is video/sources.py's DemoClipSource), and `demo-scene`, a procedurally drawn moving scene
that needs no files at all (tests, benchmarks and int8 calibration use it)."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

DEMO = "demo"
DEMO_SCENE = "demo-scene"
DEFAULT_FPS = 30.0


def demo_clip_path() -> Path:
    """The packaged clip (footage/SOURCE.md says what it is and how it was made)."""
    clip = resources.files(__package__).joinpath("footage").joinpath("demo_face.mp4")
    return clip if isinstance(clip, Path) else Path(str(clip))


class DemoSource:
    """A procedurally drawn test scene: moving shapes, gradients and text. Needs no files."""

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = DEFAULT_FPS,
        cycle: int | None = None,
    ) -> None:
        self.name = DEMO_SCENE
        self.fps = float(fps)
        self.paced = True
        self.live = False
        self.width, self.height = width, height
        self._index = 0
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        self._xs, self._ys = xs / max(1, width - 1), ys / max(1, height - 1)
        # Benchmarks: drawing a 1080p frame takes ~20 ms of CPU, too slow for a 60 fps source,
        # so `cycle` frames are drawn up front and replayed in a loop.
        self._frames = [self._draw(i) for i in range(cycle)] if cycle else None

    def _draw(self, index: int) -> np.ndarray:
        return draw_demo_frame(self._xs, self._ys, index / self.fps)

    def read(self) -> np.ndarray | None:
        index = self._index
        self._index += 1
        if self._frames is not None:
            return self._frames[index % len(self._frames)].copy()
        return self._draw(index)

    def reopen(self) -> bool:
        self._index = 0
        return True

    def close(self) -> None:
        pass


def draw_demo_frame(xs: np.ndarray, ys: np.ndarray, t: float) -> np.ndarray:
    """One frame of the demo scene at time t (seconds)."""
    height, width = xs.shape
    # A slowly drifting colour gradient as the background.
    b = 0.5 + 0.5 * np.sin(2 * math.pi * (xs + 0.1 * t))
    g = 0.5 + 0.5 * np.sin(2 * math.pi * (ys + 0.07 * t) + 2.0)
    r = 0.5 + 0.5 * np.sin(2 * math.pi * (xs + ys - 0.05 * t) + 4.0)
    frame = (np.dstack([b, g, r]) * 200 + 20).astype(np.uint8)
    scale = min(width, height)
    cx = int(width * (0.5 + 0.3 * math.cos(t * 0.9)))
    cy = int(height * (0.5 + 0.25 * math.sin(t * 1.3)))
    cv2.circle(frame, (cx, cy), int(scale * 0.15), (40, 60, 230), -1, cv2.LINE_AA)
    angle = t * 40.0
    box = cv2.boxPoints(((width * 0.3, height * 0.65), (scale * 0.3, scale * 0.18), angle))
    cv2.fillPoly(frame, [box.astype(np.int32)], (230, 200, 40), cv2.LINE_AA)
    tri_x = int(width * (0.75 + 0.1 * math.sin(t)))
    tri = np.array(
        [
            [tri_x, int(height * 0.15)],
            [tri_x - scale // 8, int(height * 0.4)],
            [tri_x + scale // 8, int(height * 0.4)],
        ],
        np.int32,
    )
    cv2.fillPoly(frame, [tri], (60, 220, 90), cv2.LINE_AA)
    font_scale = scale / 400
    cv2.putText(
        frame,
        "livestyle demo",
        (int(width * 0.05), int(height * 0.12)),
        cv2.FONT_HERSHEY_DUPLEX,
        font_scale * 1.2,
        (255, 255, 255),
        2,
        cv2.LINE_AA,
    )
    cv2.putText(
        frame,
        f"t = {t:6.2f} s",
        (int(width * 0.05), int(height * 0.92)),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (20, 20, 20),
        2,
        cv2.LINE_AA,
    )
    return frame
