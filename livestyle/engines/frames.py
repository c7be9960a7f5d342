"""Frame conversion shared by every engine: BGR uint8 frames in and out, on any device.

The colour conversion, normalization, resizing, strength blend and rounding run on the
frame's device (the GPU in half precision), so every engine sees the same pixels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from livestyle.model import (
    MIN_INPUT_SIDE,
)

if TYPE_CHECKING:
    pass


def bgr_to_input(frame: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(H, W, 3) uint8 BGR on any device -> (1, 3, H, W) RGB in [0, 1]."""
    return frame.permute(2, 0, 1).flip(0).unsqueeze(0).to(dtype).div_(255.0)


def output_to_bgr(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) RGB, any range -> (H, W, 3) uint8 BGR, rounded, on the same device.

    Contiguous, so the display and the recorder use the array as it is instead of each
    copying it (the reorder costs least here, on the inference thread or the GPU)."""
    scaled = image[0].float().clamp(0.0, 1.0).mul_(255.0).add_(0.5)  # never mutates the input
    return scaled.to(torch.uint8).flip(0).permute(1, 2, 0).contiguous()


def infer_shape(height: int, width: int, infer_size: int | None, scale: float) -> tuple[int, int]:
    """Network input size: the frame scaled so its long side is infer_size (or by scale).

    Never below the network's smallest input on either side: a wide frame at a small
    --infer-size would otherwise crash in reflection padding.
    """
    if infer_size:
        scale = min(1.0, infer_size / max(height, width))
    return max(MIN_INPUT_SIDE, round(height * scale)), max(MIN_INPUT_SIDE, round(width * scale))


def stylize_frame(
    frame: torch.Tensor,
    net: Callable[[torch.Tensor], torch.Tensor],
    dtype: torch.dtype,
    net_shape: tuple[int, int],
    strength: float | torch.Tensor | None,
    channels_last: bool,
) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> stylized (H, W, 3) uint8 BGR on the frame's device.

    The network sees the frame resized to `net_shape`; `strength` None is the full style,
    a number or 0-dim tensor blends over the frame. Shared by the eager path and the CUDA
    graphs, which capture exactly this.
    """
    height, width = frame.shape[:2]
    x = bgr_to_input(frame, dtype)
    net_in = x
    if net_shape != (height, width):
        net_in = F.interpolate(
            x, size=net_shape, mode="bilinear", antialias=True, align_corners=False
        )
    if channels_last:
        net_in = net_in.contiguous(memory_format=torch.channels_last)
    y = net(net_in)
    if net_shape != (height, width):
        y = F.interpolate(y, size=(height, width), mode="bilinear", align_corners=False)
    if strength is not None:
        # Blend the picture the user sees (clamped), not the raw network output.
        y = torch.lerp(x, y.to(x.dtype).clamp(0.0, 1.0), strength)
    return output_to_bgr(y)


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run torch's CPU ops of the calling thread on `count` threads (None: unchanged).

    With ONNX Runtime doing the network, torch only converts, resizes and rounds frames:
    a millisecond on one thread, but tens of milliseconds on two when the second core is
    busy, because every parallel op waits for its slowest thread to be scheduled. With
    OpenMP the setting is per calling thread; it is restored either way.
    """
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
