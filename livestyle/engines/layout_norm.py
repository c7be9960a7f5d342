"""Instance norm that keeps channels-last memory and float32 statistics (GPU, half precision)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from livestyle.model import ConvLayer


class LayoutInstanceNorm(nn.Module):
    """Instance norm that returns the memory layout it is given, statistics in float32.

    PyTorch's instance norm returns NCHW for a channels-last input, so in a channels-last
    network every norm and the convolution after it convert layouts (two extra passes over
    the activation). Here the statistics are reductions and the normalization is pointwise,
    both of which keep the input's layout. Mean and variance are float32: sums of squares over
    a 1080p plane leave half precision's range. The pointwise part runs in the input's
    precision, subtracting the mean first so large means cost no precision.
    """

    def __init__(self, norm: nn.InstanceNorm2d) -> None:
        super().__init__()
        self.eps = norm.eps
        self.weight = norm.weight
        self.bias = norm.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var, mean = torch.var_mean(x.float(), dim=(2, 3), keepdim=True, correction=0)
        scale = torch.rsqrt(var + self.eps)
        centred = x - mean.to(x.dtype)
        if self.weight is None:
            return centred * scale.to(x.dtype)
        scale = scale * self.weight.float().view(1, -1, 1, 1)
        shift = self.bias.to(x.dtype).view(1, -1, 1, 1)
        return torch.addcmul(shift, centred, scale.to(x.dtype))


def with_layout_norm(model: nn.Module) -> nn.Module:
    """A copy of `model` whose instance norms keep the memory layout and float32 statistics."""
    model = copy.deepcopy(model)
    for layer in model.modules():
        if isinstance(layer, ConvLayer) and isinstance(layer.norm, nn.InstanceNorm2d):
            layer.norm = LayoutInstanceNorm(layer.norm)
    return model
