"""Render the sheet each style's stroke scale was chosen from: every shipped style on one
640x480 portrait at stroke scales 0.67, 1 and 1.5 (the network at 480, 320 and 213 px, as
live on a CPU), with guided upscaling, a 300 px crop around the face.

    python benchmarks/render/render_stroke_scales.py [--variant lite] [--out DIR]

Writes DIR/stroke_scales_N.png, four styles a sheet.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.files import read_image

PHOTO = Path(__file__).resolve().parents[2].parent / "shared/photos/pypi_bundled"
SCALES = (0.67, 1.0, 1.5)
LIVE_CPU_SIDE = 320
ROWS_PER_SHEET = 4


def portrait() -> np.ndarray:
    """The astronaut portrait as a 640x480 webcam frame."""
    photo = read_image(PHOTO / "skimage_astronaut.png")
    return cv2.resize(photo, (640, 640), interpolation=cv2.INTER_AREA)[40:520]


def tile(image: np.ndarray, text: str) -> np.ndarray:
    crop = cv2.resize(image[0:400, 120:520], (300, 300), interpolation=cv2.INTER_AREA)
    cv2.putText(crop, text, (4, 292), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1)
    return crop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variant", default="lite")
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    styles = load_styles(scan_styles([PACKAGE_WEIGHTS_DIR], prefer_variant=args.variant))
    stylizer = Stylizer(styles, "cpu")
    frame = portrait()
    rows = []
    for index, (_, info) in enumerate(styles):
        tiles = []
        for scale in SCALES:
            stylizer.network_size = NetworkSize(round(LIVE_CPU_SIDE / scale))
            tiles.append(tile(stylizer.stylize(frame, index).image, f"{info.name} {scale:g}"))
        rows.append(np.hstack(tiles))
    args.out.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(rows), ROWS_PER_SHEET):
        path = args.out / f"stroke_scales_{start // ROWS_PER_SHEET + 1}.png"
        cv2.imwrite(str(path), np.vstack(rows[start : start + ROWS_PER_SHEET]))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
