"""The style strip's thumbnails: every style in turn, on the inference thread, small.

While the strip is shown, the inference thread makes at most one thumbnail after each main
frame: the frame shrunk to THUMB_WIDTH pixels wide, stylized with the next style in turn
(round robin), so with N styles the whole strip is new every N frames and the network runs
at a few percent of the main frame's size. A thumbnail names its style by index
(`Stylizer.stylize(..., index=k)`): the chosen style, its cross-fade and its blend are read
but never changed, so the main picture goes on exactly as without the strip. The strength
and the original-colours choice are the main picture's, so a thumbnail shows what picking
that style would show.

A thumbnail is made after the main frame went to its sinks (it adds nothing to the main
frame's latency), and only when no newer camera frame is already waiting, that is in the
time the thread would otherwise wait for the camera; when inference cannot keep up (a frame
always waits) one frame in MAX_SKIPS + 1 still makes one, so the strip moves, slowly.
Switched off, the strip costs one attribute read per frame.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from livestyle.stylizer import Stylizer

# Wide enough to tell paintings apart, small enough to cost a few percent of a 320 px frame;
# a multiple of 4 (the network's size step) so 4:3 and 16:9 frames need no padding.
THUMB_WIDTH = 128
# With a frame already waiting, skip at most this many frames in a row before making one.
MAX_SKIPS = 3


@dataclass(frozen=True)
class Thumbnail:
    """One style's picture of one frame, at thumbnail size (BGR uint8)."""

    index: int  # the style's index in the Stylizer
    image: np.ndarray
    frame_index: int  # the captured frame it shows
    style: str


def shrink(image: np.ndarray, width: int = THUMB_WIDTH) -> np.ndarray:
    """The frame at `width` pixels wide, aspect kept; a narrower frame stays as it is."""
    height, frame_width = image.shape[:2]
    if frame_width <= width:
        return image
    size = (width, max(1, round(height * width / frame_width)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)  # averages: no aliasing


class ThumbnailRound:
    """Which style's thumbnail comes next, and whether thumbnails are wanted at all.

    `show` may be called from any thread (the window's key); `make` only from the inference
    thread."""

    def __init__(self, width: int = THUMB_WIDTH, max_skips: int = MAX_SKIPS) -> None:
        self.width = width
        self.max_skips = max_skips
        self.made = 0
        self.skipped = 0
        self.ms: deque[float] = deque(maxlen=240)  # recent thumbnail times, for the report
        self._lock = threading.Lock()
        self._on = False
        self._next = 0
        self._skips = 0

    @property
    def on(self) -> bool:
        return self._on

    def show(self, on: bool) -> None:
        """Start (from the first style, so the strip fills in order) or stop making them."""
        with self._lock:
            if on and not self._on:
                self._next, self._skips = 0, 0
            self._on = on

    def due(self, frame_waiting: bool) -> bool:
        """Whether this frame makes a thumbnail: always when the thread would wait for the
        camera anyway, else only after MAX_SKIPS frames without one."""
        if not self._on:
            return False
        if frame_waiting and self._skips < self.max_skips:
            self._skips += 1
            self.skipped += 1
            return False
        self._skips = 0
        return True

    def _take_index(self, count: int) -> int:
        with self._lock:
            index = self._next % count
            self._next = index + 1
            return index

    def make(self, stylizer: Stylizer, image: np.ndarray, frame_index: int) -> Thumbnail:
        """The next style's thumbnail of `image` (the captured frame, full size)."""
        began = time.perf_counter()
        index = self._take_index(len(stylizer.styles))
        stylized = stylizer.stylize(shrink(image, self.width), index=index)
        self.ms.append((time.perf_counter() - began) * 1000.0)
        self.made += 1
        return Thumbnail(index, stylized.image, frame_index, stylized.style.name)
