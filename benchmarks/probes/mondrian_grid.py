"""Mondrian's grid of dark bars as a finish, fixed on the screen: a prototype (round
twenty-one, benchmarks/RESULTS.md). It takes the place of livestyle.dots for any style whose
metadata asks for dots, so give `--styles-dir` a copy of the shipped file with Mondrian's
dots set (benchmarks/probes/style_setting.py DIR mondrian dots 1). The frame is cut into
rectangles by recursive splits (CELL px across on average on a 640 px frame, in proportion on
others, the same layout every run); each rectangle takes FLAT of its mean colour over the
picture's own, and the borders between them, LINE px wide, are darkened DARK of the way to
the painting's near-black.

Run: CELL=14 FLAT=0.35 DARK=0.7 python benchmarks/probes/mondrian_grid.py \
    benchmarks/quality/compare_peer.py --blind --paintings mondrian --styles-dir DIR ...
  (or livestyle/__main__.py eval-stability ... for its flicker)
"""

from __future__ import annotations

import os
import runpy
import sys
from functools import lru_cache

import cv2
import numpy as np

import livestyle.stylizer

REFERENCE_SIDE = 640
CELL = float(os.environ.get("CELL", 14))
FLAT = float(os.environ.get("FLAT", 0.35))
LINE = float(os.environ.get("LINE", 2))
DARK = float(os.environ.get("DARK", 0.7))
LINE_BGR = np.array([45, 45, 40], np.float32)
SEED = 11
# A rectangle small enough is kept whole this often, so sizes vary as the painting's do.
KEEP = 0.35


@lru_cache(maxsize=4)
def layout(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pixel's rectangle (int32 labels), the border mask, and each rectangle's size."""
    scale = max(height, width) / REFERENCE_SIDE
    low, high = CELL * 0.6 * scale, CELL * 2.5 * scale
    chance = np.random.default_rng(SEED)
    labels = np.zeros((height, width), np.int32)
    count = 0

    def keep(y0: int, y1: int, x0: int, x1: int) -> None:
        nonlocal count
        labels[y0:y1, x0:x1] = count
        count += 1

    def split(y0: int, y1: int, x0: int, x1: int) -> None:
        tall, wide = y1 - y0, x1 - x0
        if max(tall, wide) <= high and (max(tall, wide) < 2 * low or chance.random() < KEEP):
            return keep(y0, y1, x0, x1)
        vertical = wide > tall * chance.uniform(0.6, 1.6)
        if (wide if vertical else tall) < 2 * low:
            vertical = not vertical
        size = wide if vertical else tall
        if size < 2 * low:
            return keep(y0, y1, x0, x1)
        cut = int(chance.uniform(low, size - low))
        if vertical:
            split(y0, y1, x0, x0 + cut)
            split(y0, y1, x0 + cut, x1)
        else:
            split(y0, y0 + cut, x0, x1)
            split(y0 + cut, y1, x0, x1)

    split(0, height, 0, width)
    border = np.zeros((height, width), np.uint8)
    border[:, :-1] |= (labels[:, :-1] != labels[:, 1:]).astype(np.uint8)
    border[:-1, :] |= (labels[:-1, :] != labels[1:, :]).astype(np.uint8)
    side = max(1, round(LINE * scale))
    if side > 1:
        border = cv2.dilate(border, np.ones((side, side), np.uint8))
    sizes = np.bincount(labels.ravel()).astype(np.float32)
    return labels, border.astype(bool), sizes


def gridded(image: np.ndarray, frame: np.ndarray, amount: float) -> np.ndarray:
    """`image` (BGR uint8) laid on the grid, `amount` of the way (dots' signature)."""
    if amount <= 0:
        return image
    height, width = image.shape[:2]
    labels, border, sizes = layout(height, width)
    cells = labels.ravel()
    pixels = image.reshape(-1, 3).astype(np.float32)
    means = (
        np.stack([np.bincount(cells, pixels[:, c], minlength=len(sizes)) for c in range(3)], axis=1)
        / sizes[:, None]
    )
    out = FLAT * means[cells] + (1.0 - FLAT) * pixels
    lines = border.ravel()
    out[lines] = out[lines] * (1.0 - DARK) + LINE_BGR * DARK
    painted = np.clip(out.reshape(height, width, 3) + 0.5, 0, 255).astype(np.uint8)
    return painted if amount >= 1 else cv2.addWeighted(image, 1 - amount, painted, amount, 0)


if __name__ == "__main__":
    livestyle.stylizer.dotted = gridded  # type: ignore[assignment]
    script, *sys.argv[1:] = sys.argv[1:]
    sys.argv[0] = script
    runpy.run_path(script, run_name="__main__")
