"""The image transformer network of Johnson et al. (2016), with instance normalization.

One class covers every variant: the widths of the three stages and the number of residual
blocks are configuration, so the standard network and the lighter CPU variant share code.
Upsampling is nearest-neighbour + convolution (no transposed convolutions, which leave
checkerboard artifacts), and convolutions pad by reflection (the CPU network: zeros).

A network may carry many styles (Dumoulin et al. 2017, "A Learned Representation for
Artistic Style"): every instance norm then holds one scale and shift per style, the
convolutions are shared, and `select` picks the style, or a blend of styles, by a weight
vector. `style_views` turns such a network into one single-style network per style that
share the convolution modules, which is what the engines run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from livestyle.grain import with_grain

# The network downsamples twice by 2, so inputs are padded to a multiple of this.
SIZE_MULTIPLE = 4
# Kernel of the first (and last) convolution. Reflection padding needs more pixels than it
# pads, so the first layer's kernel // 2 = 4 sets the smallest input side the network takes.
OUTER_KERNEL = 9
MIN_INPUT_SIDE = OUTER_KERNEL // 2 + 1


@dataclass(frozen=True)
class NetConfig:
    """Shape of a transformer network: stage widths, residual block count and layout.

    `shuffle`: no full-resolution layer at all. The input's 2x2 pixel blocks become 12
    channels at half resolution (space-to-depth), and the output is 12 half-resolution
    channels pixel-shuffled back; widths[0] is then those 12 channels. On a CPU the
    full-resolution convolutions, narrow and memory-bound, were half the lite network's
    time for a fraction of its style (benchmarks/RESULTS.md, "A network shaped for CPUs").
    """

    widths: tuple[int, int, int] = (32, 64, 128)
    res_blocks: int = 5
    shuffle: bool = False
    padding: str = "reflect"
    grain: float = 0.0  # the canvas grain's strength (livestyle/grain.py); 0: no grain input

    @property
    def input_channels(self) -> int:
        """RGB, plus the canvas grain when the network takes it."""
        return 3 + int(self.grain > 0)

    def to_dict(self) -> dict:
        data: dict = {"widths": list(self.widths), "res_blocks": self.res_blocks}
        if self.shuffle:  # files of the other layouts keep the metadata they always had
            data["shuffle"] = True
        if self.padding != "reflect":
            data["padding"] = self.padding
        if self.grain:
            data["grain"] = self.grain
        return data

    @classmethod
    def from_dict(cls, data: dict) -> NetConfig:
        """Build a config from metadata, refusing unknown keys and absurd values."""
        unknown = set(data) - {"widths", "res_blocks", "shuffle", "padding", "grain"}
        if unknown:
            raise ValueError(f"unknown network config keys: {', '.join(sorted(unknown))}")
        widths = tuple(int(w) for w in data.get("widths", cls.widths))
        res_blocks = int(data.get("res_blocks", cls.res_blocks))
        shuffle = data.get("shuffle", False)
        padding = data.get("padding", "reflect")
        grain = data.get("grain", 0.0)
        if len(widths) != 3 or min(widths) < 1 or res_blocks < 0 or shuffle not in (True, False):
            raise ValueError(f"invalid network config: widths={widths}, res_blocks={res_blocks}")
        if isinstance(grain, bool) or not isinstance(grain, int | float) or not 0 <= grain <= 100:
            raise ValueError(f"invalid network grain {grain!r}: a strength from 0 to 100")
        if padding not in PADDINGS:
            raise ValueError(f"invalid network padding {padding!r}: one of {', '.join(PADDINGS)}")
        if shuffle and widths[0] != SHUFFLED_CHANNELS:
            raise ValueError(f"a shuffled network's first width is {SHUFFLED_CHANNELS}: {widths}")
        return cls(widths, res_blocks, shuffle=shuffle, padding=padding, grain=float(grain))  # type: ignore[arg-type]


# "reflect": a padding op before every convolution; "zeros": the convolution pads itself, so
# ONNX Runtime runs no separate op (a reflection pad was 13% of the int8 lite network's time).
PADDINGS = ("reflect", "zeros")

# RGB in 2x2 blocks: the channels of a shuffled network's half-resolution ends.
SHUFFLED_CHANNELS = 3 * 2 * 2

VARIANTS: dict[str, NetConfig] = {
    # Johnson et al.'s network: about 1.7 M parameters, for GPUs.
    "standard": NetConfig((32, 64, 128), 5),
    # For CPUs: nothing at full resolution (space-to-depth in, pixel shuffle out), one
    # 32-channel layer at half resolution each way, and five 64-channel residual blocks at
    # quarter resolution, where the style lives (two more than the network it replaced).
    # Zero padding inside the convolutions: ONNX Runtime runs no separate pad op.
    "lite": NetConfig((SHUFFLED_CHANNELS, 32, 64), 5, shuffle=True, padding="zeros"),
}

# Earlier shapes of a variant: files trained with them load and count as that variant.
FORMER_VARIANTS: dict[NetConfig, str] = {
    # The lite network until 2026-11-28: too narrow to carry a painting's colours.
    NetConfig((8, 16, 32), 4): "lite",
    # The lite network until issue 24: 9x9 convolutions at full resolution.
    NetConfig((16, 32, 64), 3): "lite",
    # The lite network of issue 24 before its padding moved into the convolutions.
    NetConfig((SHUFFLED_CHANNELS, 32, 64), 5, shuffle=True): "lite",
}


def variant_name(config: NetConfig) -> str:
    """Name of a known variant matching the config (now or formerly), or 'custom'. The canvas
    grain is an option of any variant, so it does not change the name."""
    config = replace(config, grain=0.0)
    for name, known in VARIANTS.items():
        if known == config:
            return name
    return FORMER_VARIANTS.get(config, "custom")


class ConditionalInstanceNorm2d(nn.Module):
    """Instance norm with a scale and shift per style; `mix` weighs the styles.

    `mix` is (styles,) for the whole batch or (N, styles) per sample; a one-hot row is one
    style, any convex combination a blend (the norm parameters are interpolated).
    """

    def __init__(self, channels: int, styles: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(styles, channels))
        self.bias = nn.Parameter(torch.zeros(styles, channels))
        self.mix: torch.Tensor | None = None

    @property
    def styles(self) -> int:
        return self.weight.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mix is None:
            raise RuntimeError("a multi-style network needs select() before it runs")
        mix = self.mix.to(x.device, torch.float32)
        mix = mix.unsqueeze(0) if mix.dim() == 1 else mix
        scale = (mix @ self.weight.float())[:, :, None, None]
        shift = (mix @ self.bias.float())[:, :, None, None]
        normed = F.instance_norm(x.float(), eps=self.eps)
        return (normed * scale + shift).to(x.dtype)


class ConvLayer(nn.Module):
    """Padded convolution (reflection or zeros), optionally followed by instance norm and
    ReLU. With `styles` > 0 the norm is conditional: one scale and shift per style."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel: int,
        stride: int = 1,
        norm: bool = True,
        relu: bool = True,
        styles: int = 0,
        padding: str = "reflect",
    ) -> None:
        super().__init__()
        self.pad: nn.Module = nn.Identity()
        if padding == "reflect":
            self.pad = nn.ReflectionPad2d(kernel // 2)
            self.conv = nn.Conv2d(c_in, c_out, kernel, stride)
        else:
            self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2)
        self.norm: nn.Module | None = None
        if norm:
            self.norm = (
                ConditionalInstanceNorm2d(c_out, styles)
                if styles
                else nn.InstanceNorm2d(c_out, affine=True)
            )
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.pad(x))
        if self.norm is not None:
            x = self.norm(x)
        return F.relu(x) if self.relu else x


class ResidualBlock(nn.Module):
    def __init__(self, channels: int, styles: int = 0, padding: str = "reflect") -> None:
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3, styles=styles, padding=padding)
        self.conv2 = ConvLayer(channels, channels, 3, relu=False, styles=styles, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.conv1(x))


class UpsampleConv(nn.Module):
    """Nearest-neighbour 2x upsampling, then a convolution (no checkerboard artifacts)."""

    def __init__(self, c_in: int, c_out: int, styles: int = 0, padding: str = "reflect") -> None:
        super().__init__()
        self.conv = ConvLayer(c_in, c_out, 3, styles=styles, padding=padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class SpaceToDepth(nn.Module):
    """Each r x r block of pixels becomes r * r * C channels at 1/r the resolution: a
    full-resolution stem's work moved to where the network is cheap. Channel order is ONNX's
    SpaceToDepth (block position major), so the CPU graph runs it as one node."""

    def __init__(self, block: int) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        r = self.block
        x = x.reshape(n, c, h // r, r, w // r, r).permute(0, 3, 5, 1, 2, 4)
        return x.reshape(n, r * r * c, h // r, w // r)


class DepthToSpace(nn.Module):
    """Pixel shuffle: r * r * C channels become C at r times the resolution (ONNX's
    DepthToSpace in CRD order)."""

    def __init__(self, block: int) -> None:
        super().__init__()
        self.block = block

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(x, self.block)


def _start_as_nearest(conv: nn.Conv2d, block: int) -> None:
    """Initialise a convolution that feeds a pixel shuffle so all block positions of an
    output channel start with the same filter: the shuffle then starts as nearest-neighbour
    upsampling, not as a grid of unrelated filters (ICNR, Aitken et al. 2017), which a
    shuffled output otherwise paints as a fine checkerboard."""
    if conv.weight.is_meta:
        # Shapes only (weights.check_tensors): nothing to start, and a copy on the meta
        # device loads torch's symbolic-shape machinery, 0.7 s of every start.
        return
    positions = block * block
    with torch.no_grad():
        base = conv.weight[::positions].clone()
        conv.weight.copy_(base.repeat_interleave(positions, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[::positions].repeat_interleave(positions))


class TransformerNet(nn.Module):
    """Maps an RGB batch in [0, 1] (N, 3, H, W) to a stylized RGB batch of the same size.

    A network with the canvas grain appends it to an RGB batch itself; training hands it
    (N, 4, H, W) batches whose grain moved with their photos (see livestyle.train.trainer).

    `styles` = 0: one style, plain affine instance norms. `styles` > 0: a multi-style network
    with conditional instance norms; `select` picks the style (or blend) before it runs.
    """

    def __init__(self, config: NetConfig = VARIANTS["standard"], styles: int = 0) -> None:
        super().__init__()
        self.config = config
        self.styles = styles
        self._grain: dict = {}  # the canvas grain of recent input sizes (with_grain)
        w1, w2, w3 = config.widths
        pad = config.padding
        if config.shuffle:
            self.down = nn.Sequential(
                SpaceToDepth(2),
                ConvLayer(4 * config.input_channels, w2, 3, styles=styles, padding=pad),
                ConvLayer(w2, w3, 3, stride=2, styles=styles, padding=pad),
            )
        else:
            self.down = nn.Sequential(
                ConvLayer(config.input_channels, w1, OUTER_KERNEL, styles=styles, padding=pad),
                ConvLayer(w1, w2, 3, stride=2, styles=styles, padding=pad),
                ConvLayer(w2, w3, 3, stride=2, styles=styles, padding=pad),
            )
        self.res = nn.Sequential(
            *(ResidualBlock(w3, styles, pad) for _ in range(config.res_blocks))
        )
        if config.shuffle:
            out = ConvLayer(w2, w1, 3, norm=False, relu=False, padding=pad)
            _start_as_nearest(out.conv, 2)
            self.up = nn.Sequential(UpsampleConv(w3, w2, styles, pad), out, DepthToSpace(2))
        else:
            self.up = nn.Sequential(
                UpsampleConv(w3, w2, styles, pad),
                UpsampleConv(w2, w1, styles, pad),
                ConvLayer(w1, 3, OUTER_KERNEL, norm=False, relu=False, padding=pad),
            )

    def select(self, mix: torch.Tensor | int) -> None:
        """Style weights for the next forward passes: an index, (styles,) or (N, styles)."""
        if not self.styles:
            raise ValueError("a single-style network has no styles to select")
        if isinstance(mix, int):
            mix = F.one_hot(torch.tensor(mix), self.styles).float()
        for module in self.modules():
            if isinstance(module, ConditionalInstanceNorm2d):
                module.mix = mix

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        # Reflect-pad to a multiple of 4 so odd sizes come back at exactly their input size.
        pad_h = (-height) % SIZE_MULTIPLE
        pad_w = (-width) % SIZE_MULTIPLE
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode="reflect")
        if self.config.grain and x.shape[1] == 3:
            x = with_grain(x, self.config.grain, self._grain)
        y = self.up(self.res(self.down(x)))
        return y[..., :height, :width]


def norm_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """The instance norms' scales and shifts: all that differs between the styles of one
    multi-style network (the rest is its shared body)."""
    return [(name, p) for name, p in model.named_parameters() if ".norm." in name]


def style_views(net: TransformerNet) -> list[TransformerNet]:
    """One single-style network per style of `net`, sharing its convolution modules (the same
    tensors, so nothing is copied and engines can tell that the bodies are one)."""
    if not net.styles:
        return [net]
    views = []
    for index in range(net.styles):
        view = TransformerNet(net.config)
        source_layers = [m for m in net.modules() if isinstance(m, ConvLayer)]
        view_layers = [m for m in view.modules() if isinstance(m, ConvLayer)]
        for source, layer in zip(source_layers, view_layers, strict=True):
            layer.conv = source.conv
            if source.norm is not None:
                with torch.no_grad():
                    layer.norm.weight.copy_(source.norm.weight[index])
                    layer.norm.bias.copy_(source.norm.bias[index])
        views.append(view.eval())
    return views


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
