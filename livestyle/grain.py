"""The canvas grain: a fixed, endless pattern a network may take as a 4th input channel.

A network that is the same at every position and sees only the photo paints a flat wall the
same everywhere: its marks there could only come from the photo's noise, which a steady
network must ignore. Given this field it can place marks on flat areas that hold still from
frame to frame (fixed to the screen, like a canvas's weave). The pattern is GRAIN_WAVES plane
waves (random directions, periods GRAIN_PERIODS px of the network's input, random phases),
summed to unit variance and scaled to GRAIN_STD; made from a fixed seed on every machine, so
no file carries it. engines/onnx_grain.py writes the same field into an ONNX graph.
"""

from __future__ import annotations

import math

import torch

GRAIN_WAVES = 48
# 8-20 px: moved by bilinear resampling (the temporal term's moves) they keep 0.98 of their
# amplitude; the 2.5-6 px waves first used kept 0.81, so marks that followed them were charged
# as flicker and the networks hardly used them (benchmarks/RESULTS.md, round five).
GRAIN_PERIODS = (8.0, 20.0)
# The field's standard deviation unless a network says otherwise (its config's `grain`). The
# grain's input weights start at 0 and Adam moves each by about the learning rate a step, so
# a stronger field is a faster-learning one.
GRAIN_STD = 0.5
_GRAIN_SEED = 2026
GRAIN_SIZES_KEPT = 16


def _grain_waves() -> torch.Tensor:
    """(GRAIN_WAVES, 3): each wave's x and y frequency (radians per px) and phase."""
    gen = torch.Generator().manual_seed(_GRAIN_SEED)
    u = torch.rand(GRAIN_WAVES, 3, generator=gen, dtype=torch.float64)
    low, high = GRAIN_PERIODS
    frequency = 2 * math.pi / (low + (high - low) * u[:, 0])
    angle = math.pi * u[:, 1]
    return torch.stack(
        [frequency * torch.cos(angle), frequency * torch.sin(angle), 2 * math.pi * u[:, 2]], 1
    )


GRAIN_WAVE_TABLE = _grain_waves()


def grain_field(
    height: int,
    width: int,
    top: float = 0.0,
    left: float = 0.0,
    device: torch.device | None = None,
    std: float = GRAIN_STD,
) -> torch.Tensor:
    """The canvas grain over `height` x `width` px whose corner sits at (`top`, `left`) of the
    endless pattern: (1, 1, H, W) float32. sin(ax + by + p) = sin(ax + p) cos(by) +
    cos(ax + p) sin(by), so the field is one small matrix product of 1-D tables."""
    waves = GRAIN_WAVE_TABLE
    x = torch.arange(width, dtype=torch.float64) + left
    y = torch.arange(height, dtype=torch.float64) + top
    along_x = x[None, :] * waves[:, :1] + waves[:, 2:]  # (waves, W)
    along_y = y[:, None] * waves[:, 1]  # (H, waves)
    rows = torch.cat([torch.cos(along_y), torch.sin(along_y)], 1)
    cols = torch.cat([torch.sin(along_x), torch.cos(along_x)], 0)
    field = (rows @ cols) * (std * math.sqrt(2 / GRAIN_WAVES))
    return field.to(device=device, dtype=torch.float32)[None, None]


def with_grain(x: torch.Tensor, std: float, cache: dict | None = None) -> torch.Tensor:
    """An RGB batch with the canvas grain of strength `std` (corner at the pattern's origin,
    fixed to the screen) as a 4th channel, in the batch's dtype. `cache` keeps each size's
    field, so a video's frames (and a captured CUDA graph) reuse one tensor."""
    n, _, height, width = x.shape
    key = (height, width, x.device, x.dtype, std)
    field = None if cache is None else cache.pop(key, None)
    if field is not None:
        cache[key] = field  # the latest used last: the least recently used go first
    else:
        field = grain_field(height, width, device=x.device, std=std).to(x.dtype)
        if cache is not None:
            # A captured CUDA graph reads its size's field in place, so a field must outlive
            # the graph: the engines keep 4 graphs, this keeps more sizes than that.
            while len(cache) >= GRAIN_SIZES_KEPT:
                cache.pop(next(iter(cache)))
            cache[key] = field
    return torch.cat([x, field.expand(n, 1, height, width)], 1)
