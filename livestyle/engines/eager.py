"""The eager engine: the styles' networks in plain PyTorch, on the CPU, Apple MPS or CUDA.

On CUDA the uint8 frame goes up through a pinned host buffer with a non-blocking copy, and
the colour conversion, resizing, blend and rounding run on the device (engines/frames.py).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from livestyle.engines.frames import stylize_frame
from livestyle.engines.layout_norm import with_layout_norm


def prepare_model(
    model: nn.Module,
    device: torch.device,
    dtype: torch.dtype,
    channels_last: bool,
    layout_norm: bool,
) -> nn.Module:
    """A frozen copy of `model` on `device` in `dtype`, laid out for inference there."""
    if layout_norm:
        model = with_layout_norm(model)  # a copy; otherwise `.to` below moves the caller's
    model = model.to(device, dtype).eval()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model


class EagerEngine:
    """Runs each frame through PyTorch eager, one style network per style."""

    name = "torch"

    def __init__(
        self,
        models: list[nn.Module],
        device: torch.device,
        dtype: torch.dtype,
        channels_last: bool = False,
        layout_norm: bool = False,
    ) -> None:
        self.device = device
        self.dtype = dtype
        self.channels_last = channels_last
        self.models = [
            prepare_model(model, device, dtype, channels_last, layout_norm) for model in models
        ]
        self._pinned: torch.Tensor | None = None

    def upload(self, frame: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(frame))
        if self.device.type != "cuda":
            return host.to(self.device)
        if self._pinned is None or self._pinned.shape != host.shape:
            self._pinned = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
        self._pinned.copy_(host)
        return self._pinned.to(self.device, non_blocking=True)

    def stylize(
        self, frame: np.ndarray, style: int, net_shape: tuple[int, int], strength: float
    ) -> np.ndarray:
        out = stylize_frame(
            self.upload(frame),
            self.models[style],
            self.dtype,
            net_shape,
            strength if strength < 1.0 else None,
            self.channels_last,
        )
        return out.cpu().numpy()

    def release(self) -> None:
        self._pinned = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
