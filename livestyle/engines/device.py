"""Device and precision: where the network runs, in which precision, with which backend."""

from __future__ import annotations

import logging

import torch

from livestyle.core.errors import LivestyleError
from livestyle.core.precision import dtype_of
from livestyle.engines.onnx import INSTALL_HINT, onnxruntime_available

log = logging.getLogger(__name__)


class DeviceError(LivestyleError, ValueError):
    """A device name that is not a device, or one this machine does not have."""


def pick_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple MPS, then the CPU; a bad name is a one-line user error."""
    if name != "auto":
        try:
            device = torch.device(name)
        except RuntimeError as exc:  # "Expected one of cpu, cuda, ... device type at start of"
            raise DeviceError(f"device {name}: {exc}") from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceError(f"device {name}: CUDA was asked for but is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(device: torch.device, precision: str = "auto") -> torch.dtype:
    """Half precision on CUDA, float32 elsewhere, unless the user says otherwise."""
    if precision == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return dtype_of(precision)


def preferred_variant(device: torch.device, requested: str = "auto") -> str:
    """The network variant asked for, or with "auto" the one that stays fluid on `device`."""
    if requested != "auto":
        return requested
    return "standard" if device.type in ("cuda", "mps") else "lite"


def check_int8(backend: str) -> None:
    """int8 exists only as ONNX Runtime's quantized CPU network: anything else is one line."""
    if backend != "onnxruntime":
        raise DeviceError(
            "--precision int8 runs the network in ONNX Runtime on the CPU only "
            f"(--device cpu, and {INSTALL_HINT} if it is not installed)"
        )


def resolve_backend(requested: str, device: torch.device, dtype: torch.dtype) -> str:
    """'auto', 'torch', 'onnxruntime' or 'cuda-graph' -> the backend a Stylizer really uses.

    auto: ONNX Runtime for float32 on the CPU when installed, CUDA graphs on CUDA, else
    torch. Asking for onnxruntime without it installed falls back to torch with one line.
    """
    if requested not in ("auto", "torch", "onnxruntime", "cuda-graph"):
        raise ValueError(f"unknown backend '{requested}' (auto, torch, onnxruntime, cuda-graph)")
    if requested in ("torch", "cuda-graph"):
        # cuda-graph off CUDA runs the graph path's logic eagerly: for tests and dry runs.
        return requested
    cpu_float32 = device.type == "cpu" and dtype == torch.float32
    if requested == "onnxruntime" and not cpu_float32:
        raise ValueError("the onnxruntime backend runs float32 on the CPU only")
    if requested == "auto" and device.type == "cuda":
        return "cuda-graph"
    if not cpu_float32:
        return "torch"
    if onnxruntime_available():
        return "onnxruntime"
    level = logging.WARNING if requested == "onnxruntime" else logging.INFO
    log.log(
        level, "onnxruntime is not installed: running the network in PyTorch (%s)", INSTALL_HINT
    )
    return "torch"
