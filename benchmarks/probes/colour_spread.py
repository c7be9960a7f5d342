"""How far each style's colours are from its painting's: pixel colour mean and covariance of
the network's picture of the astronaut photo (320x320) against the painting's, as relative
errors, and the total colour variance of both (issue 13: a pale network spreads its colours
less widely than the painting); for a style with ink or its own colour gain (livestyle.ink)
or dots (livestyle.dots), the same of the picture as shown, inked and dotted, beside them
(the colour gain in full, as live on a webcam frame twice the network's size).

Run: python benchmarks/probes/colour_spread.py [STYLE_FILE]  (default: the shipped lite file)
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.discovery import PACKAGE_WEIGHTS_DIR
from livestyle.dots import dotted
from livestyle.ink import inked
from livestyle.train.data import load_style_image
from livestyle.train.losses import color_stats
from livestyle.train.paintings import read_manifest
from livestyle.weights import load_network

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PHOTO = SHARED / "photos" / "pypi_bundled" / "skimage_astronaut.png"
MANIFEST = PACKAGE_WEIGHTS_DIR / "paintings.json"


def relative_error(value: torch.Tensor, target: torch.Tensor) -> float:
    return float((value - target).pow(2).sum() / target.pow(2).sum())


def main() -> None:
    path = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else PACKAGE_WEIGHTS_DIR / "paintings.lite.safetensors"
    )
    if not PHOTO.is_file():
        sys.exit(f"needs the shared photos in {SHARED}")
    net, infos = load_network(path)
    net.eval()
    paintings = {p.name: p.path for p in read_manifest(MANIFEST, str(SHARED / "styles"))}
    photo = cv2.cvtColor(cv2.imread(str(PHOTO)), cv2.COLOR_BGR2RGB)
    x = torch.from_numpy(cv2.resize(photo, (320, 320))).permute(2, 0, 1)[None].float() / 255
    print(
        "| style | mean error | covariance error | colour variance | painting's "
        "| as shown: covariance error | colour variance |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for index, info in enumerate(infos):
        net.select(index)
        with torch.no_grad():
            y = net(x).clamp(0, 1)
        painting = load_style_image(paintings[info.name], 320, None)
        (mean, cov), (target_mean, target_cov) = color_stats(y), color_stats(painting)
        shown = (
            _stats_as_shown(y, photo, (info.ink, info.colour, info.dots), target_cov)
            if info.ink or info.colour or info.dots
            else "| - | - |"
        )
        print(
            f"| {info.name} | {relative_error(mean, target_mean):.3f} | "
            f"{relative_error(cov, target_cov):.3f} | {float(cov[0].diagonal().sum()):.4f} | "
            f"{float(target_cov[0].diagonal().sum()):.4f} {shown}"
        )


def _stats_as_shown(
    y: torch.Tensor, photo: np.ndarray, own: tuple[float, float, float], target_cov: torch.Tensor
) -> str:
    """The covariance error and colour variance of the network's picture `y` (1x3xHxW RGB)
    inked and dotted as the app shows it (`own`: the style's ink, colour gain and dots),
    against the RGB `photo` it was made of."""
    ink, colour, dots = own
    picture = (y[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    frame = cv2.resize(photo, picture.shape[1::-1])[..., ::-1].copy()
    bgr = dotted(inked(picture[..., ::-1].copy(), frame, ink, colour), frame, dots)
    shown = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255
    _, cov = color_stats(shown)
    return f"| {relative_error(cov, target_cov):.3f} | {float(cov[0].diagonal().sum()):.4f} |"


if __name__ == "__main__":
    main()
