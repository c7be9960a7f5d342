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


def dtype_of(name: str) -> torch.dtype:
    """'fp16' -> torch.float16; an unknown name says which ones exist."""
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"unknown precision '{name}' ({', '.join(PRECISIONS)})") from None
