"""Steady video: a stylized stream smoothed over time where the camera's picture stands still.

A feed-forward style network answers the camera's noise (sensor grain, compression blocks)
with brushwork that shimmers from frame to frame, most visibly on a still face: on the
talking-head test clip the shipped lite styles flickered 1.7-5.7x the clip's own error.
Each output pixel is therefore blended with the previous output where the input barely
changed there (an exponential moving average), and left alone where it moved: the weight
falls linearly from STEADY_WEIGHT at no change to 0 at MOTION_LEVELS of local change, so a
moving hand or head never leaves a trail. Costs a few cv2 passes over uint8 frames.

SteadyStream is how a Stylizer's frames are steadied (live, `stylize` of a video and
`eval-stability` alike): one stream of frames, started over at another style or colour mode.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace

import cv2
import numpy as np

from livestyle.stylizer import Stylized, Stylizer

# How much of the previous output a still pixel keeps: 0.75 cut the talking head's flicker
# about in half (5.4x -> 2.3x for Starry Night) with no trail behind motion; 0.85 cut more
# but drifted up to 5 grey levels from the network's picture (benchmarks/RESULTS.md).
STEADY_WEIGHT = 0.75
# Local change of the input's lightness (0-255, mean over a 5x5 window) at which a pixel
# counts as moving: above compression noise, below any real edge passing by.
MOTION_LEVELS = 8.0
WINDOW = (5, 5)


def keep_weights(weight: float = STEADY_WEIGHT, levels: float = MOTION_LEVELS) -> np.ndarray:
    """The previous output's weight for each uint8 level of local change, (256,) float32."""
    change = np.arange(256, dtype=np.float32)
    return (weight * np.clip(1.0 - change / levels, 0.0, 1.0)).astype(np.float32)


class Steadier:
    """Smooths one stream of stylized frames; `reset` (or a new key or size) starts over."""

    def __init__(self, weight: float = STEADY_WEIGHT, levels: float = MOTION_LEVELS) -> None:
        # Both blend weights by level, for cv2.LUT (a numpy gather costs 3x as much).
        self._keep = keep_weights(weight, levels)
        self._take = (1.0 - self._keep).astype(np.float32)
        self._grey: np.ndarray | None = None
        self._output: np.ndarray | None = None
        self._key: Hashable = None

    def reset(self) -> None:
        self._grey = self._output = None

    def __call__(self, frame: np.ndarray, stylized: np.ndarray, key: Hashable = None) -> np.ndarray:
        """The steadied picture for `stylized`, the network's picture of input `frame`
        (both uint8 BGR of one size). A different `key` (another style) starts over: the
        previous picture then belongs to something else."""
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        previous = self._output
        if previous is None or previous.shape != stylized.shape or key != self._key:
            output = stylized
        else:
            change = cv2.blur(cv2.absdiff(grey, self._grey), WINDOW)
            keep, take = cv2.LUT(change, self._keep), cv2.LUT(change, self._take)
            output = cv2.blendLinear(stylized, previous, take, keep)
        self._grey, self._output, self._key = grey, output, key
        return output


class SteadyStream:
    """A Stylizer's pictures of one stream of frames, steadied while `steady` is on; off, the
    network's own (and on again, it starts from a fresh picture)."""

    def __init__(self, stylizer: Stylizer, steady: bool = True) -> None:
        self.stylizer = stylizer
        self.steady = steady
        self._steadier = Steadier()

    def __call__(self, frame: np.ndarray, index: int | None = None) -> Stylized:
        """`frame` stylized (with the chosen style, or style `index`) and steadied."""
        stylized = self.stylizer.stylize(frame, index)
        if not self.steady:
            self._steadier.reset()
            return stylized
        # The picture it made of another style or colour mode is no previous picture.
        key = (stylized.style.name, stylized.preserve_color)
        return replace(stylized, image=self._steadier(frame, stylized.image, key))
