"""Precision names, as the options and reports spell them, and the dtype each one means."""

from __future__ import annotations

import torch

DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "float32": torch.float32,
    "fp16": torch.float16,
    "half": torch.float16,
    "bf16": torch.bfloat16,
}
PRECISIONS = ("fp32", "fp16", "bf16")  # the short names, in the order reports list them
# Not a dtype of frames: the CPU network's convolutions in int8 inside ONNX Runtime, with
# float32 frames around them (engines/quantize.py).
INT8 = "int8"


def dtype_of(name: str) -> torch.dtype:
    """'fp16' -> torch.float16 ('int8': float32, the frames' dtype around an int8 network);
    an unknown name says which ones exist."""
    if name == INT8:
        return torch.float32
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"unknown precision '{name}' ({', '.join(PRECISIONS)})") from None
