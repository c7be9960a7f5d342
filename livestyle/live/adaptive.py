"""A live network size that adapts to the machine, and a fade that hides its changes.

SizeGovernor is fed each stylized frame's time and the network's pixel count and chooses the
network's long side so the stream keeps a target rate: down at once when frames are too
slow, up one step only when the next size would fit with room to spare (no oscillation),
never above the tuned live size (strokes were tuned there) nor below a floor. SizeFade
blends the last picture before a change into the new ones, so the change is no visible jump.
Pure logic on fed timings and a clock: no threads, no Qt.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import cv2
import numpy as np

from livestyle.model import MIN_INPUT_SIDE

GRID = 16  # the long side moves on multiples of this (top and floor themselves allowed)
# The inference thread may use this share of a frame's time: capture, drawing and recording
# need the CPU too.
HEADROOM = 0.85
# Going up only when the next size's predicted time is below this share of the budget:
# a size that barely fits must not be tried again and again.
UP_MARGIN = 0.75
UP_PERCENTILE = 75.0  # ... for the slower frames of the window, not only the typical one
MIN_FRAMES = 12  # a decision needs at least this many frames at the current size
WINDOW_FRAMES = 30  # the recent frames a decision reads
SETTLE_SECONDS = 3.0  # between decisions: a new size's timings must settle first
FIRST_SETTLE_SECONDS = 1.0  # at start, the first decision comes sooner
MAX_STEPS_DOWN = 2  # grid steps per change down, but for the first decision
FADE_SECONDS = 0.4
FALLBACK_FPS = 30.0  # a source that reports no sensible rate


def target_rate(fps_target: float | None, source_fps: float | None) -> float:
    """The rate to keep: --fps-target, else the source's own, else FALLBACK_FPS (a camera
    reporting 0 or nonsense)."""
    if fps_target is not None and fps_target > 0:
        return float(fps_target)
    if source_fps is not None and 1.0 <= source_fps <= 240.0:
        return float(source_fps)
    return FALLBACK_FPS


def size_grid(floor: int, top: int) -> list[int]:
    """The long sides the governor may choose, smallest first: floor, multiples of GRID
    between, top."""
    inner = range((floor // GRID + 1) * GRID, top, GRID)
    return sorted({floor, *inner, top})


class SizeGovernor:
    """Chooses the network's long side from observed frame times (see the module's doc)."""

    def __init__(
        self,
        top: int,
        target_fps: float,
        *,
        floor_fraction: float = 0.5,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if top < 1 or target_fps <= 0:
            raise ValueError(f"need a positive size and rate, got {top} px at {target_fps} fps")
        self.top = top
        self.floor = min(top, max(MIN_INPUT_SIDE, round(top * floor_fraction)))
        self.target_fps = target_fps
        self.budget = HEADROOM / target_fps
        self._grid = size_grid(self.floor, top)
        self._index = len(self._grid) - 1  # start at the tuned size
        self._now = now
        self._window: deque[tuple[float, int]] = deque(maxlen=WINDOW_FRAMES)
        self._since: float | None = None  # the first frame, then the last decision
        self._first = True

    @property
    def long_side(self) -> int:
        return self._grid[self._index]

    def observe(self, frame_seconds: float, net_pixels: int) -> int | None:
        """One stylized frame's time and network pixel count; the new long side when it
        decides to change, else None."""
        now = self._now()
        if self._since is None:
            self._since = now
        if frame_seconds <= 0 or net_pixels <= 0:
            return None  # a clock that did not move tells nothing
        self._window.append((frame_seconds, net_pixels))
        settle = FIRST_SETTLE_SECONDS if self._first else SETTLE_SECONDS
        if len(self._window) < MIN_FRAMES or now - self._since < settle:
            return None
        # One decision a settle period, not one a frame: a noisy window would otherwise get
        # hundreds of chances to cross a line by chance.
        index = self._decide()
        self._first = False
        self._since = now
        if index == self._index:
            return None
        self._index = index
        self._window.clear()  # the old size's timings mean nothing at the new one
        return self.long_side

    def _decide(self) -> int:
        """The grid index to run at next: lower when the window's median time is over the
        budget, one step higher when the next size would fit with margin."""
        median_time = float(np.median([seconds for seconds, _ in self._window]))
        if median_time > self.budget:
            fitting = [i for i in range(self._index) if self._predict(i) <= self.budget]
            lowest = 0 if self._first else max(0, self._index - MAX_STEPS_DOWN)
            return max([lowest, *fitting]) if fitting else lowest
        up = self._index + 1
        # Up only if the slower frames too would fit there with margin: noise must not lift it.
        if up < len(self._grid) and self._predict(up, UP_PERCENTILE) < self.budget * UP_MARGIN:
            return up
        return self._index

    def _predict(self, index: int, percentile: float = 50.0) -> float:
        """A frame's time at grid size `index`: the window's cost per network pixel (its
        median, or this percentile) times that size's pixels (the area grows with the square
        of the long side)."""
        costs = [seconds / pixels for seconds, pixels in self._window]
        cost = float(np.percentile(costs, percentile))
        pixels = float(np.median([pixels for _, pixels in self._window]))
        return cost * pixels * (self._grid[index] / self.long_side) ** 2


class SizeFade:
    """For FADE_SECONDS after a size change, each output is a blend of the last picture
    before the change and the new one, the new one's weight rising from 0 to 1."""

    def __init__(
        self, seconds: float = FADE_SECONDS, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._now = now
        self._last: np.ndarray | None = None
        self._old: np.ndarray | None = None
        self._began = 0.0

    @property
    def fading(self) -> bool:
        return self._old is not None

    def begin(self) -> None:
        """The size just changed: fade from the last picture shown."""
        if self._last is not None:
            self._old = self._last.copy()  # its producer may reuse the buffer
            self._began = self._now()

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """The picture to show for `image`: blended while a fade runs, else itself."""
        old = self._old
        if old is not None:
            weight = (self._now() - self._began) / self.seconds
            if weight >= 1.0 or old.shape != image.shape or old.dtype != image.dtype:
                self._old = None  # done, or the frame's size changed: nothing to blend
            else:
                image = cv2.addWeighted(old, 1.0 - max(0.0, weight), image, max(0.0, weight), 0)
        self._last = image
        return image
