"""VGG16's feature layers in torchvision's key layout (relu1_2, relu2_2, relu3_3, relu4_3;
content relu2_2); a loss network of training (livestyle.train.lossnet loads it)."""

from __future__ import annotations

import torch
from torch import nn

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
