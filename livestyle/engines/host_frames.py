"""The frame path on the CPU: engines/frames.py's steps on numpy arrays with OpenCV.

torch is made for the network, not for the frame around it: on one thread its bilinear
scaling of a 1280x720 frame took 15 ms and the guided upscale 34 ms, most of a 55 ms frame,
where OpenCV's SIMD resampling and arithmetic on uint8 and float32 arrays do the same
steps in a few milliseconds (benchmarks/probes/frame_path_cost.py). So the CPU engines
(eager and ONNX Runtime) scale, convert and round frames here and give torch only the
network's own small picture; the GPU engines keep frames.stylize_frame, which a CUDA graph
captures. The two paths agree to a few grey levels: OpenCV shrinks with an area filter
where torch uses an antialiased bilinear one, and rounds the small input to uint8.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import torch

from livestyle.engines.frames import GUIDE_DETAIL_FLOOR, GUIDE_EPS, GUIDE_RADIUS, keep_colors

_WINDOW = (2 * GUIDE_RADIUS + 1,) * 2


class HostFrames:
    """engines/frames.py's frame path on arrays, for one engine: frames.stylize_frame's
    steps, with the full-size scratch arrays kept from frame to frame (fresh 11 MB arrays
    at 1280x720 cost more in page faults than the arithmetic done in them)."""

    def __init__(self) -> None:
        self._scratch: dict[str, np.ndarray] = {}

    def stylize(
        self,
        frame: np.ndarray,
        net: Callable[[torch.Tensor], torch.Tensor],
        dtype: torch.dtype,
        net_shape: tuple[int, int],
        strength: float | None,
        channels_last: bool = False,
        preserve_color: bool = False,
        guided: bool = False,
    ) -> np.ndarray:
        """(H, W, 3) uint8 BGR -> stylized (H, W, 3) uint8 BGR, as frames.stylize_frame."""
        height, width = frame.shape[:2]
        resized = net_shape != (height, width)
        small = _resize(frame, net_shape) if resized else frame
        x = to_input(small, dtype)
        net_in = x.contiguous(memory_format=torch.channels_last) if channels_last else x
        y = net(net_in)
        if preserve_color:
            y = keep_colors(x, y, True)
        picture = to_bgr_float(y)  # (h, w, 3) float32, 0-255, unclamped
        if not resized:
            out = _round(picture)
        elif guided:
            out = self.guided_upscale(picture, small, frame)
        else:
            up = cv2.resize(
                picture, (width, height), self._full("up", frame, 3), interpolation=cv2.INTER_LINEAR
            )
            out = _round(up)
        if strength is not None:
            out = cv2.addWeighted(out, strength, frame, 1.0 - strength, 0.0)
        return out

    def guided_upscale(
        self, picture: np.ndarray, small: np.ndarray, frame: np.ndarray
    ) -> np.ndarray:
        """frames.guided_upscale on arrays: the stylized `picture` ((h, w, 3) float32 BGR,
        0-255) of the network's input `small` ((h, w, 3) uint8) scaled up to `frame`'s size
        with the frame's fine detail, in the proportion a local linear fit gives; uint8 out."""
        gain, guide = _detail_gain(picture, small)
        size = frame.shape[1::-1]
        up_picture = cv2.resize(
            picture, size, self._full("up", frame, 3), interpolation=cv2.INTER_LINEAR
        )
        up_gain = cv2.resize(
            gain, size, self._full("gain", frame, 3), interpolation=cv2.INTER_LINEAR
        )
        up_guide = cv2.resize(
            guide, size, self._full("guide", frame), interpolation=cv2.INTER_LINEAR
        )
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY, self._full("grey", frame, 1, np.uint8))
        detail = cv2.subtract(grey, up_guide, self._full("detail", frame), dtype=cv2.CV_32F)
        # One plane per channel first: OpenCV multiplies same-shaped arrays 5x faster than
        # numpy broadcasts one plane over three.
        spread = cv2.merge((detail, detail, detail), self._full("spread", frame, 3))
        cv2.multiply(up_gain, spread, up_gain)
        return cv2.add(up_picture, up_gain, dtype=cv2.CV_8U)

    def _full(
        self, name: str, frame: np.ndarray, channels: int = 1, dtype: type = np.float32
    ) -> np.ndarray:
        """The scratch array `name` at `frame`'s size (made anew only when the size changes)."""
        shape = frame.shape[:2] if channels == 1 else (*frame.shape[:2], channels)
        array = self._scratch.get(name)
        if array is None or array.shape != shape:
            array = self._scratch[name] = np.empty(shape, dtype)
        return array


def to_input(frame: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> (1, 3, H, W) RGB in [0, 1] in `dtype`, as frames.bgr_to_input."""
    planes = cv2.split(frame)[::-1]  # R, G, B planes, each contiguous
    x = torch.from_numpy(np.stack(planes)).unsqueeze(0)
    return x.to(torch.float32).div_(255.0).to(dtype)


def to_bgr_float(image: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) RGB, any dtype and range -> (H, W, 3) float32 BGR scaled to 0-255."""
    planes = image[0].float().mul(255.0).numpy()
    return cv2.merge((planes[2], planes[1], planes[0]))


def _detail_gain(picture: np.ndarray, small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At the network's size: how much of the frame's lightness detail each channel of the
    stylized `picture` takes (frames.guided_upscale's local fits), and that lightness."""
    guide = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean_guide = cv2.blur(guide, _WINDOW)
    mean_picture = cv2.blur(picture, _WINDOW)
    mean_product = cv2.blur(picture * guide[..., None], _WINDOW)
    variance = cv2.blur(guide * guide, _WINDOW) - mean_guide * mean_guide
    covariance = mean_product - mean_picture * mean_guide[..., None]
    # GUIDE_EPS is on the 0-1 scale; here lightness runs 0-255.
    regularized = variance + GUIDE_EPS * 255.0**2
    fit = covariance / regularized[..., None]
    floor = (GUIDE_DETAIL_FLOOR * variance / regularized)[..., None]
    gain = cv2.blur(np.maximum(fit, floor), _WINDOW)
    return gain, guide


def _resize(frame: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Area averaging to shrink (it filters as it goes), bilinear to enlarge."""
    height, width = shape
    shrink = height * width < frame.shape[0] * frame.shape[1]
    method = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(frame, (width, height), interpolation=method)


def _round(picture: np.ndarray) -> np.ndarray:
    """float32 0-255 -> a new uint8 array, rounded to nearest and clipped to 0-255."""
    return cv2.addWeighted(picture, 1.0, picture, 0.0, 0.0, dtype=cv2.CV_8U)
