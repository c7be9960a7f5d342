"""`livestyle eval-stability`: how much a style flickers on a video clip.

Flicker is the mean error between each stylized frame and the previous stylized frame warped
onto it by the optical flow of the *input* frames (OpenCV DIS), over the pixels where that
flow is reliable (forward and backward flow agree). Where no motion at all explains the input
as well as the flow does, the pixel counts as still and is compared unwarped: across a flat
background DIS guesses flows of a pixel and more (nothing there tells it otherwise), and
warping by the guess charged texture that never moved. The same measure on the input clip
itself is the floor: motion the flow cannot explain (lighting, noise, occlusions) counts there
too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from livestyle.core.errors import SourceError
from livestyle.video.files import VideoReader, fit_long_side

# Forward-backward check (Sundaram et al. 2010): |fw + bw|^2 < a (|fw|^2 + |bw|^2) + b.
CONSISTENCY_A = 0.01
CONSISTENCY_B = 0.5
# The window over which zero motion and the flow are weighed as explanations of the input: on
# the talking-head clip the flow moved 52% of the pixels by a quarter pixel or more, most of
# them on the flat blue wall behind the speaker, where the stylized frames changed by less
# than one grey level unwarped (benchmarks/RESULTS.md, round eighteen).
EXPLAIN_WINDOW = (5, 5)


@dataclass
class Flicker:
    """Mean absolute error (0-255 scale) of warped consecutive frames."""

    stylized: float
    input: float
    reliable_fraction: float
    pairs: int

    @property
    def ratio(self) -> float:
        return self.stylized / self.input if self.input > 0 else float("inf")


class FlowWarper:
    """Dense optical flow between consecutive input frames, and warping by it."""

    def __init__(self) -> None:
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def flow(self, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Flow from dst's pixels to where they are in src (for warping src onto dst)."""
        return self._dis.calc(_gray(dst), _gray(src), None)

    def reliable(self, back: np.ndarray, forward: np.ndarray) -> np.ndarray:
        """Pixels of dst whose backward flow is confirmed by the forward flow and stays inside."""
        height, width = back.shape[:2]
        grid = _grid(height, width)
        target = grid + back
        forward_at_target = _remap(forward, target)
        error = np.sum((back + forward_at_target) ** 2, axis=2)
        bound = CONSISTENCY_A * (np.sum(back**2, axis=2) + np.sum(forward_at_target**2, axis=2))
        inside = (
            (target[..., 0] >= 0)
            & (target[..., 0] <= width - 1)
            & (target[..., 1] >= 0)
            & (target[..., 1] <= height - 1)
        )
        return (error < bound + CONSISTENCY_B) & inside

    def warp(self, image: np.ndarray, back: np.ndarray) -> np.ndarray:
        height, width = back.shape[:2]
        return _remap(image, _grid(height, width) + back)

    def still(self, src: np.ndarray, dst: np.ndarray, back: np.ndarray) -> np.ndarray:
        """Pixels of dst that no motion explains at least as well as the flow `back` does
        (mean absolute error of the input over EXPLAIN_WINDOW)."""
        current = dst.astype(np.float32)
        by_flow = np.abs(current - self.warp(src, back)).mean(axis=2)
        by_none = np.abs(current - src).mean(axis=2)
        return cv2.blur(by_none, EXPLAIN_WINDOW) <= cv2.blur(by_flow, EXPLAIN_WINDOW)


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _grid(height: int, width: int) -> np.ndarray:
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return np.dstack([xs, ys])


def _remap(image: np.ndarray, coords: np.ndarray) -> np.ndarray:
    return cv2.remap(
        image, coords[..., 0], coords[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def measure_flicker(
    inputs: list[np.ndarray], outputs: list[np.ndarray], flow_everywhere: bool = False
) -> Flicker:
    """Warped temporal error of outputs (and of inputs), flow taken from the inputs.
    `flow_everywhere` warps every reliable pixel by the flow, none taken as still: the
    measure before 2026-12-05, for comparison with figures taken then."""
    if len(inputs) != len(outputs) or len(inputs) < 2:
        raise ValueError("need at least two frames, as many outputs as inputs")
    warper = FlowWarper()
    out_errors, in_errors, fractions = [], [], []
    for i in range(1, len(inputs)):
        back = warper.flow(inputs[i - 1], inputs[i])
        forward = warper.flow(inputs[i], inputs[i - 1])
        mask = warper.reliable(back, forward)
        if not flow_everywhere:
            still = warper.still(inputs[i - 1], inputs[i], back)
            back[still] = 0.0
            mask |= still
        fractions.append(float(mask.mean()))
        if not mask.any():
            continue
        for errors, frames in ((out_errors, outputs), (in_errors, inputs)):
            warped = warper.warp(frames[i - 1], back).astype(np.float32)
            diff = np.abs(frames[i].astype(np.float32) - warped).mean(axis=2)
            errors.append(float(diff[mask].mean()))
    return Flicker(
        stylized=float(np.mean(out_errors)) if out_errors else 0.0,
        input=float(np.mean(in_errors)) if in_errors else 0.0,
        reliable_fraction=float(np.mean(fractions)),
        pairs=len(inputs) - 1,
    )


def read_clip(path: Path, max_frames: int, long_side: int | None) -> list[np.ndarray]:
    """Frames of a clip, optionally scaled down so the long side is at most long_side."""
    frames = []
    with VideoReader(path) as video:
        for frame, _ in video:
            frames.append(fit_long_side(frame, long_side) if long_side else frame)
            if len(frames) == max_frames:
                break
    if len(frames) < 2:
        raise SourceError(f"cannot read {path}: fewer than two frames")
    return frames
