"""Blends of styles: weights over styles that share one network body.

The styles of a multi-style network differ only in their instance norms' scales and shifts,
so a blend of them is a network whose norm parameters are the weighted sum of theirs
(Dumoulin et al. 2017). That is what `--style a:0.6,b:0.4` runs and what a style swap
cross-fades through. Styles with different bodies (single-style files) cannot blend: their
convolutions differ, so a blend of them falls back to its heaviest style.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from livestyle.model import norm_parameters

# (style index, weight) pairs: weights positive, summing to 1, each index once.
Mix = tuple[tuple[int, float], ...]


def as_mix(style: int | Mix) -> Mix:
    return ((style, 1.0),) if isinstance(style, int) else style


def normalized(pairs: Sequence[tuple[int, float]]) -> Mix:
    """Merge repeated styles, drop zero weights, scale the weights to sum to 1."""
    weights: dict[int, float] = {}
    for index, weight in pairs:
        if weight < 0:
            raise ValueError(f"a style weight must be >= 0, not {weight}")
        weights[index] = weights.get(index, 0.0) + float(weight)
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("a blend needs at least one style with a weight above 0")
    return tuple((i, w / total) for i, w in weights.items() if w > 0)


def dominant(mix: Mix) -> int:
    """The style of the largest weight (the first of equals)."""
    return max(mix, key=lambda pair: pair[1])[0]


def crossfade(start: Mix, end: Mix, t: float) -> Mix:
    """The mix `t` of the way from `start` to `end` (t in [0, 1])."""
    t = min(1.0, max(0.0, t))
    pairs = [(i, w * (1 - t)) for i, w in start] + [(i, w * t) for i, w in end]
    return normalized(pairs)


def body_key(model: nn.Module) -> tuple:
    """What styles must share to blend or to share an ONNX session: the network's shape and
    the very tensors of everything but the instance norms (the styles of one multi-style
    file share their body; single-style networks each have their own)."""
    norms = {id(p) for _, p in norm_parameters(model)}
    shared = tuple(p.data_ptr() for p in model.parameters() if id(p) not in norms)
    return (getattr(model, "config", None), shared)


def blend(tensors: Sequence[Sequence[torch.Tensor]], mix: Mix) -> list[torch.Tensor]:
    """Σ weight * tensors[style], position by position (tensors[style] is one style's list).

    The one way every engine blends styles: the eager and CUDA engines blend their norm
    parameters into a network (blend_into), the ONNX engine the norm feeds of its session."""
    out = [t.mul(0.0) for t in tensors[mix[0][0]]]
    for index, weight in mix:
        torch._foreach_add_(out, list(tensors[index]), alpha=weight)
    return out


@torch.no_grad()
def blend_into(
    targets: Sequence[torch.Tensor], tensors: Sequence[Sequence[torch.Tensor]], mix: Mix
) -> None:
    """Set `targets` (a network's norm parameters) to the blend of the styles' (see blend)."""
    torch._foreach_copy_(list(targets), blend(tensors, mix))


class Blender:
    """Decides what an engine is asked to run: one style, or a blend of styles that share a
    body (a blend across bodies runs its heaviest style instead)."""

    def __init__(self, models: Sequence[nn.Module]) -> None:
        self.keys = [body_key(model) for model in models]

    def resolve(self, style: int | Mix) -> int | Mix:
        mix = as_mix(style)
        if len(mix) == 1:
            return mix[0][0]
        if len({self.keys[index] for index, _ in mix}) > 1:
            return dominant(mix)
        return mix

    def can_blend(self, a: int, b: int) -> bool:
        return self.keys[a] == self.keys[b]
