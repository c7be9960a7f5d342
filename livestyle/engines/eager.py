"""The eager engine: the styles' networks in plain PyTorch, on the CPU, Apple MPS or CUDA.

On CUDA the uint8 frame goes up through a pinned host buffer with a non-blocking copy, and
the colour conversion, resizing, blend and rounding run on the device (engines/frames.py);
on the CPU they run in OpenCV (engines/host_frames.py).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from livestyle.engines.base import Engine
from livestyle.engines.frames import stylize_frame
from livestyle.engines.host_frames import HostFrames
from livestyle.engines.layout_norm import with_layout_norm
from livestyle.engines.mix import Mix, as_mix, blend_into, body_key
from livestyle.model import norm_parameters


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


class EagerEngine(Engine):
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
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed frame sizes: autotune once per size
        # Taken before preparing: a prepared copy no longer shares its body's tensors.
        self._bodies = [body_key(model) for model in models]
        self.models = [
            prepare_model(model, device, dtype, channels_last, layout_norm) for model in models
        ]
        self._norms = [[p for _, p in norm_parameters(model)] for model in self.models]
        self._pinned: torch.Tensor | None = None
        # CPU frames are scaled and converted in OpenCV; False sends them through the GPU's
        # torch path instead (what the CUDA graph runner is compared with on a CPU).
        self.host_frames = device.type == "cpu"
        self._host_frames = HostFrames()
        # A blend runs in a copy of its body's network (one per body), norms set to the blend.
        self._blended: dict[tuple, nn.Module] = {}
        self._blended_mix: dict[tuple, Mix] = {}

    def upload(self, frame: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(frame))
        if self.device.type != "cuda":
            return host.to(self.device)
        if self._pinned is None or self._pinned.shape != host.shape:
            self._pinned = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
        self._pinned.copy_(host)
        return self._pinned.to(self.device, non_blocking=True)

    def network(self, style: int | Mix) -> nn.Module:
        """The network of one style, or of a blend of styles that share a body."""
        mix = as_mix(style)
        if len(mix) == 1:
            return self.models[mix[0][0]]
        body = self._bodies[mix[0][0]]
        if body not in self._blended:
            self._blended[body] = copy.deepcopy(self.models[mix[0][0]])
        network = self._blended[body]
        if self._blended_mix.get(body) != mix:
            blend_into([p for _, p in norm_parameters(network)], self._norms, mix)
            self._blended_mix[body] = mix
        return network

    def _stylize(
        self,
        frame: np.ndarray,
        style: int | Mix,
        net_shape: tuple[int, int],
        strength: float,
        *,
        preserve_color: bool = False,
        guided: bool = False,
    ) -> np.ndarray:
        args = (
            self.network(style),
            self.dtype,
            net_shape,
            strength if strength < 1.0 else None,
            self.channels_last,
            preserve_color,
            guided,
        )
        if self.host_frames:
            return self._host_frames.stylize(frame, *args)
        return stylize_frame(self.upload(frame), *args).cpu().numpy()

    def release(self) -> None:
        self._pinned = None
        self._blended.clear()
        self._blended_mix.clear()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
