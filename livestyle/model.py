"""The image transformer network of Johnson et al. (2016), with instance normalization.

One class covers every variant: the widths of the three stages and the number of residual
blocks are configuration, so the standard network and the lighter CPU variant share code.
Upsampling is nearest-neighbour + convolution (no transposed convolutions, which leave
checkerboard artifacts), and every convolution uses reflection padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# The network downsamples twice by 2, so inputs are padded to a multiple of this.
SIZE_MULTIPLE = 4
# Kernel of the first (and last) convolution. Reflection padding needs more pixels than it
# pads, so the first layer's kernel // 2 = 4 sets the smallest input side the network takes.
OUTER_KERNEL = 9
MIN_INPUT_SIDE = OUTER_KERNEL // 2 + 1


@dataclass(frozen=True)
class NetConfig:
    """Shape of a transformer network: stage widths and residual block count."""

    widths: tuple[int, int, int] = (32, 64, 128)
    res_blocks: int = 5

    def to_dict(self) -> dict:
        return {"widths": list(self.widths), "res_blocks": self.res_blocks}

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        """Build a config from metadata, refusing unknown keys and absurd values."""
        unknown = set(data) - {"widths", "res_blocks"}
        if unknown:
            raise ValueError(f"unknown network config keys: {', '.join(sorted(unknown))}")
        widths = tuple(int(w) for w in data.get("widths", cls.widths))
        res_blocks = int(data.get("res_blocks", cls.res_blocks))
        if len(widths) != 3 or min(widths) < 1 or res_blocks < 0:
            raise ValueError(f"invalid network config: widths={widths}, res_blocks={res_blocks}")
        return cls(widths=widths, res_blocks=res_blocks)  # type: ignore[arg-type]


VARIANTS: dict[str, NetConfig] = {
    # Johnson et al.'s network: about 1.7 M parameters, for GPUs.
    "standard": NetConfig((32, 64, 128), 5),
    # A quarter of the widths and four blocks: about 1/14 of the standard network's work per
    # pixel, so a 2-core CPU keeps up (chosen by measurement, see benchmarks/RESULTS.md).
    "lite": NetConfig((8, 16, 32), 4),
}


def variant_name(config: NetConfig) -> str:
    """Name of a known variant matching the config, or 'custom'."""
    for name, known in VARIANTS.items():
        if known == config:
            return name
    return "custom"


class ConvLayer(nn.Module):
    """Reflection-padded convolution, optionally followed by instance norm and ReLU."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        norm: bool = True,
        relu: bool = True,
    ) -> None:
        super().__init__()
        self.pad = nn.ReflectionPad2d(kernel // 2)
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride)
        self.norm = nn.InstanceNorm2d(c_out, affine=True) if norm else None
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x)
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.conv2 = ConvLayer(channels, channels, 3, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class UpsampleConv(nn.Module):
    """Nearest-neighbour 2x upsampling, then a convolution (no checkerboard artifacts)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = ConvLayer(c_in, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class TransformerNet(nn.Module):
    """Maps an RGB batch in [0, 1] (N, 3, H, W) to a stylized RGB batch of the same size."""

    def __init__(self, config: NetConfig = VARIANTS["standard"]) -> None:
        super().__init__()
        self.config = config
        w1, w2, w3 = config.widths
        self.down = nn.Sequential(
            ConvLayer(3, w1, OUTER_KERNEL),
            ConvLayer(w1, w2, 3, stride=2),
            ConvLayer(w2, w3, 3, stride=2),
        )
        self.res = nn.Sequential(*(ResidualBlock(w3) for _ in range(config.res_blocks)))
        self.up = nn.Sequential(
            UpsampleConv(w3, w2),
            UpsampleConv(w2, w1),
            ConvLayer(w1, 3, OUTER_KERNEL, norm=False, relu=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        # Reflect-pad to a multiple of 4 so odd sizes come back at exactly their input size.
        pad_h = (-height) % SIZE_MULTIPLE
        pad_w = (-width) % SIZE_MULTIPLE
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        y = self.up(self.res(self.down(x)))
        return y[..., :height, :width]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
