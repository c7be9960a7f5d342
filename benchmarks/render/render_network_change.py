"""Render docs/lite_before_after.jpg: every style of two networks at 1:1 on the same face, at
the live CPU setting (the network at 320 px divided by the style's stroke scale, scaled up
with guided upscaling) and with the network at the full 640 px frame: where a changed
network's fine texture, grids or blur show, which a scaled-down gallery hides.

    python benchmarks/render/render_network_change.py BEFORE.safetensors AFTER.safetensors \\
        [--out docs/lite_before_after.jpg] [--photo PATH]

Each style gets one cell of four crops: before live, after live, before full, after full.
The photo defaults to the astronaut in ../shared/photos/pypi_bundled (public domain).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from livestyle.model import style_views
from livestyle.sizing import CPU_LIVE_INFER_SIZE, NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.files import read_image
from livestyle.weights import load_network

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "photos" / "pypi_bundled"
PHOTO = SHARED / "skimage_astronaut.png"
FRAME = (480, 640)  # a webcam frame: the photo scaled to 640 px wide, cut to 480 high
CROP = (40, 200, 160)  # top, left, side: the face, at 1:1
COLUMNS = 2  # style cells side by side


def stylizers(path: Path) -> tuple[list[str], list[Stylizer]]:
    """The file's style names and two stylizers: live size and full frame."""
    net, infos = load_network(path)
    infos = sorted(infos, key=lambda info: info.index or 0)
    styles = list(zip(style_views(net), infos, strict=True))
    sizes = (NetworkSize(CPU_LIVE_INFER_SIZE, per_style_strokes=True), NetworkSize())
    return [info.name for info in infos], [
        Stylizer(styles, "cpu", "fp32", network_size=size) for size in sizes
    ]


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/lite_before_after.jpg"))
    parser.add_argument("--photo", type=Path, default=PHOTO)
    args = parser.parse_args()
    photo = read_image(args.photo)
    scale = FRAME[1] / photo.shape[1]
    frame = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)[: FRAME[0]]
    names, before = stylizers(args.before)
    after_names, after = stylizers(args.after)
    top, left, side = CROP
    cells = []
    for name in names:
        crops = []
        for setting, old, new in zip(("live", "full"), before, after, strict=True):
            for tag, stylizer, index in (
                ("before", old, names.index(name)),
                ("after", new, after_names.index(name)),
            ):
                picture = stylizer.stylize(frame, index).image[top : top + side, left : left + side]
                text = f"{tag} {setting}" if crops else f"{name} {tag} {setting}"
                crops.append(label(picture, text))
        cells.append(np.hstack(crops))
    while len(cells) % COLUMNS:
        cells.append(np.zeros_like(cells[0]))
    rows = [np.hstack(cells[i : i + COLUMNS]) for i in range(0, len(cells), COLUMNS)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
