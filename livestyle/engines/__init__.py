"""Engines run style networks on frames, behind one interface.

An engine (engines.base.Engine) is built with the styles' networks on one device;
`stylize(frame, style, net_shape, strength, preserve_color=False)` turns a BGR uint8 frame
into a stylized BGR uint8 frame of the same size, with the network run at `net_shape`, the
frame's own colours kept with `preserve_color` (the painting's lightness only) and the
result blended over the frame by `strength` (1: the full style). Three implementations:

- `eager`: PyTorch eager on the CPU, Apple MPS or CUDA;
- `onnx`: ONNX Runtime on the CPU (about 2x eager on small CPUs), one session per network
  body with the styles' norm parameters as inputs;
- `cuda`: the whole frame replayed from one CUDA graph per shape; styles, strength and the
  colour choice as data.

Which one runs is `device.resolve_backend`'s choice; `make_engine` builds it. Every engine
raises the same errors (OutOfMemory, DeviceFailure) and has the same statistics (`threads`,
`captures`), from the base class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
from torch import nn

from livestyle.engines.base import Engine

log = logging.getLogger(__name__)

__all__ = ["Engine", "make_engine"]


def make_engine(
    backend: str,
    models: list[nn.Module],
    device: torch.device,
    dtype: torch.dtype,
    *,
    channels_last: bool,
    layout_norm: bool,
    graph_fallback: bool = True,
    on_notice: Callable[[str], None] = lambda message: None,
    int8: bool | None = False,
    threads: int | None = None,
) -> Engine:
    """The engine for a resolved backend name; ONNX Runtime falls back to eager, said once
    (`int8`: its convolutions quantized, None where that measures close to float32,
    engines/quantize.py; `threads`: its pool, by
    default all cores but one)."""
    from livestyle.engines.eager import EagerEngine

    if backend == "onnxruntime":
        from livestyle.engines.onnx import OnnxEngine, UnsupportedModel

        try:
            return OnnxEngine(models, threads, int8=int8)
        except (UnsupportedModel, RuntimeError, ImportError) as exc:
            log.warning("onnxruntime backend unavailable (%s): running in PyTorch", exc)
    if backend == "cuda-graph":
        from livestyle.engines.cuda import CudaEngine

        return CudaEngine(
            models, device, dtype, channels_last, layout_norm, graph_fallback, on_notice
        )
    return EagerEngine(models, device, dtype, channels_last, layout_norm)
