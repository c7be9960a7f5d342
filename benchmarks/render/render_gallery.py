"""Render docs/gallery.jpg: every shipped style side by side on a few test photos.

    python benchmarks/render/render_gallery.py [--variant lite] [--out docs/gallery.jpg]
        [--styles-dir FOLDER] [--infer-size 320]

Photos come from ../shared/photos/pypi_bundled (public-domain samples shipped in
scikit-image and matplotlib: two portraits and a still life); the app's own demo frame is
used when they are absent. Each photo is scaled to a 640 px webcam frame and stylized at the
live CPU setting (the network at 320 px divided by each style's stroke scale, scaled up with
guided upscaling), as the app shows it on a CPU.
`--styles-dir` renders another folder's styles, for before/after comparisons.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.video.files import read_image

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "photos" / "pypi_bundled"
PHOTOS = ("skimage_astronaut.png", "matplotlib_grace_hopper.jpg", "skimage_coffee.png")
TILE = 192  # the whole gallery stays under 300 KB


def test_photos() -> list[np.ndarray]:
    found = [read_image(SHARED / name) for name in PHOTOS if (SHARED / name).is_file()]
    return found or [DemoSource(640, 480).read()]


def square_tile(image: np.ndarray, side: int = TILE) -> np.ndarray:
    height, width = image.shape[:2]
    crop = min(height, width)
    top, left = (height - crop) // 2, (width - crop) // 2
    return cv2.resize(
        image[top : top + crop, left : left + crop], (side, side), interpolation=cv2.INTER_AREA
    )


def label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.rectangle(tile, (0, TILE - 20), (TILE, TILE), (0, 0, 0), -1)
    cv2.putText(
        tile,
        text[:34],
        (6, TILE - 7),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.42,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return tile


def render(
    variant: str,
    folder: Path = PACKAGE_WEIGHTS_DIR,
    infer_size: int = 320,
    precision: str = "auto",
) -> np.ndarray:
    styles = load_styles(scan_styles([folder], prefer_variant=variant))
    if not styles:
        raise SystemExit(f"no styles in {folder}")
    size = NetworkSize(infer_size or None, per_style_strokes=True)
    stylizer = Stylizer(styles, "cpu", precision=precision, network_size=size)  # as live
    rows = []
    for photo in test_photos():
        # A webcam frame's size; the network runs at infer_size, as live on a CPU.
        scale = 640 / max(photo.shape[:2])
        photo = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        tiles = [label(square_tile(photo), "original")]
        for index, style in enumerate(stylizer.styles):
            out = stylizer.stylize(photo, index=index).image
            tiles.append(label(square_tile(out), f"{index + 1} {style.info.name}"))
        rows.append(np.hstack(tiles))
    return np.vstack(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", default="lite", choices=("lite", "standard"))
    parser.add_argument("--out", type=Path, default=Path("docs/gallery.jpg"))
    parser.add_argument("--styles-dir", type=Path, default=PACKAGE_WEIGHTS_DIR)
    parser.add_argument(
        "--infer-size", type=int, default=320, help="network input long side (0: frame size)"
    )
    parser.add_argument(
        "--precision",
        choices=("auto", "fp32", "int8"),
        default="auto",
        help="as the app's (auto: int8 on a CPU with int8 dot products, else float32)",
    )
    args = parser.parse_args()
    gallery = render(args.variant, args.styles_dir, args.infer_size, args.precision)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), gallery, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"{args.out}: {gallery.shape[1]}x{gallery.shape[0]}")


if __name__ == "__main__":
    main()
