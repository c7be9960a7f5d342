"""Does a network paint a line along the frame's edge? For each style of each file, on six
shared photos at the live CPU size (320x240): the jump between the outermost pixel column
(row) and its neighbour, as a multiple of the median jump between neighbouring columns
(rows) inside the picture. A picture without a border line scores about 1; the networks
trained with a circular roll before the loss network scored up to about 8 (issue 25).

Run: python benchmarks/probes/border_line.py FILE [FILE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import torch
import torch.nn.functional as F

from livestyle.video.files import read_image
from livestyle.weights import load_network

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PHOTOS = sorted((SHARED / "photos").rglob("*.jpg"))[::25][:6]
SIZE = (320, 240)


def load_photos() -> torch.Tensor:
    pictures = []
    for path in PHOTOS:
        bgr = cv2.resize(read_image(path), SIZE, interpolation=cv2.INTER_AREA)
        pictures.append(torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1))
    return torch.stack(pictures).float() / 255


def edge_jumps(y: torch.Tensor) -> dict[str, float]:
    """Each edge's outermost jump over the picture's median inner jump, along that axis."""
    dx = (y[..., :, 1:] - y[..., :, :-1]).abs().mean(dim=(0, 1, 2))  # per column gap
    dy = (y[..., 1:, :] - y[..., :-1, :]).abs().mean(dim=(0, 1, 3))  # per row gap
    inner_x, inner_y = dx[2:-2].median(), dy[2:-2].median()
    return {
        "left": float(dx[0] / inner_x),
        "right": float(dx[-1] / inner_x),
        "top": float(dy[0] / inner_y),
        "bottom": float(dy[-1] / inner_y),
    }


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    if not PHOTOS:
        sys.exit(f"needs the shared photos in {SHARED}")
    x = load_photos()
    for path in sys.argv[1:]:
        net, infos = load_network(path)
        net.eval()
        worst = []
        print(f"{path}: left right top bottom")
        for row, info in enumerate(infos):
            net.select(F.one_hot(torch.full((len(x),), row), len(infos)).float())
            with torch.no_grad():
                jumps = edge_jumps(net(x).clamp(0, 1))
            worst.append(max(jumps.values()))
            print(f"  {info.name:20s}", " ".join(f"{v:5.2f}" for v in jumps.values()))
        median = sorted(worst)[len(worst) // 2]
        print(f"  worst edge per style: median {median:.2f}, max {max(worst):.2f}")


if __name__ == "__main__":
    main()
