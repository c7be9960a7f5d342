"""How much fine texture a blind sheet's pictures carry at the size judges see them: for each
row of a `compare_peer.py --blind` sheet, ours and the peer's, the spread (standard
deviation) of the lightness and of the colour (YCrCb's Cr, Cb) finer than a 3 px blur on the
tile (320 px), the spread of the whole lightness and the mean colour (Cr, Cb); the same of the
row's painting, as the sheet shows it, beside them. Round seventeen (benchmarks/RESULTS.md)
set the dots' marks against the peer's with it.

Run: python benchmarks/probes/tile_texture.py SHEET.png KEY.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

# compare_peer.py's label strip along each tile's foot, left out.
LABEL = 18
FINE_SIGMA = 3.0


def texture(tile: np.ndarray) -> str:
    """Fine lightness, fine Cr and Cb, whole lightness (standard deviations), mean Cr and Cb;
    grey levels."""
    planes = cv2.cvtColor(tile, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    fine = (planes - cv2.GaussianBlur(planes, (0, 0), FINE_SIGMA)).std(axis=(0, 1))
    mean = planes.mean(axis=(0, 1))
    return (
        f"{fine[0]:5.1f} {fine[1]:4.1f} {fine[2]:4.1f} {planes[..., 0].std():5.1f} "
        f"{mean[1]:5.1f} {mean[2]:5.1f}"
    )


def main(sheet_path: str, key_path: str) -> None:
    sheet = cv2.imread(sheet_path)
    if sheet is None:
        sys.exit(f"cannot read {sheet_path}")
    tile = sheet.shape[1] // 3  # painting, A, B: the sheet's square tiles side by side
    print("row  painting          | ours: fine Y, Cr, Cb; all Y; mean Cr, Cb | peer's | painting's")
    for row in json.loads(Path(key_path).read_text()):
        top = (int(row["row"]) - 1) * tile
        painting, a, b = (
            sheet[top : top + tile - LABEL, x : x + tile] for x in (0, tile, 2 * tile)
        )
        ours, peer = (a, b) if row["ours"] == "A" else (b, a)
        print(
            f"{row['row']:>3}  {row['painting']:<17} | {texture(ours)} | {texture(peer)} | "
            f"{texture(painting)}"
        )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.splitlines()[-1])
    main(*sys.argv[1:])
