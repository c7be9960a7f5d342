"""Where the faces are in the training photos, for `livestyle train --faces FILE
--face-weight W` (the content loss inside faces counts 1 + W times; issue 25).

Run once over a photo folder, in the benchmark's environment: OpenCV's Haar frontal-face
detector is there (OpenCV 5, the app's, moved it out of the main package), and training then
reads only the JSON, so the app gains no dependency:
    PYTHONPATH=. bench/bin/python benchmarks/quality/face_boxes.py PHOTOS_DIR OUT.json
The photos are the ones training finds (livestyle.train.data.find_photos, at any depth); the
JSON names each by its path relative to PHOTOS_DIR, with its faces' [x, y, w, h] boxes in
the photo's own pixels ([] where none was found):
    {"detector": "...", "photos": {"sub/a.jpg": [[x, y, w, h], ...], ...}}
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from livestyle.core.errors import LivestyleError
from livestyle.train.data import find_photos
from livestyle.video.files import decode_image

CASCADE = "haarcascade_frontalface_default.xml"
# face_survival.py's settings, but the smallest face relative to the photo: training crops
# are scaled from photos of any size, and a 60 px face in a 6K wallpaper is a speck.
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 5
MIN_FACE_SHARE = 0.04  # of the short side
MIN_FACE_PX = 24  # the cascade's own window
# The cascade also "finds" faces in leaf veins, bark and flocks of birds; a box is kept only
# where the middle of it is mostly skin-coloured (the classic YCrCb skin range, which holds
# across skin tones because it bounds chroma, not brightness). Requiring an eye as well (its
# Haar detector) kept 8 of the 21 true faces: too strict. What is left, check by eye: the
# shipped recipe's file (shared_photos_faces.json) is this output with 22 of 43 boxes removed.
SKIN_CR = (133, 173)
SKIN_CB = (77, 127)
MIN_SKIN_SHARE = 0.3


def skin_share(bgr: np.ndarray, box: list[int]) -> float:
    """The share of skin-coloured pixels in the middle half of a box."""
    x, y, w, h = box
    middle = bgr[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
    if middle.size == 0:
        return 0.0
    ycrcb = cv2.cvtColor(middle, cv2.COLOR_BGR2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    skin = (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    return float(skin.mean())


def detector() -> cv2.CascadeClassifier:
    if not hasattr(cv2, "CascadeClassifier"):
        raise SystemExit(f"OpenCV {cv2.__version__} has no Haar detector: see this file's doc")
    return cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)


def face_boxes(cascade: cv2.CascadeClassifier, path: Path) -> list[list[int]]:
    """The faces in one photo as [x, y, w, h] in its pixels; [] for none or an unreadable file."""
    bgr = decode_image(path)
    if bgr is None:
        return []
    grey = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    side = max(MIN_FACE_PX, round(min(grey.shape) * MIN_FACE_SHARE))
    found = cascade.detectMultiScale(grey, SCALE_FACTOR, MIN_NEIGHBORS, minSize=(side, side))
    boxes = [[int(v) for v in box] for box in found]
    return [box for box in boxes if skin_share(bgr, box) >= MIN_SKIN_SHARE]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", type=Path, help="the training photos' folder (--data)")
    parser.add_argument("out", type=Path, help="the JSON file to write (for --faces)")
    args = parser.parse_args()
    try:
        paths = find_photos(args.photos)
    except LivestyleError as exc:
        print(f"face_boxes: {exc}", file=sys.stderr)
        return 2
    cascade = detector()
    photos = {p.relative_to(args.photos).as_posix(): face_boxes(cascade, p) for p in paths}
    record = {
        "detector": f"OpenCV {cv2.__version__} {CASCADE} scaleFactor={SCALE_FACTOR} "
        f"minNeighbors={MIN_NEIGHBORS} minSize={MIN_FACE_SHARE:g} of the short side, "
        f"on the equalized grey image; kept where >= {MIN_SKIN_SHARE:g} of the box's middle "
        f"is skin-coloured (YCrCb Cr {SKIN_CR}, Cb {SKIN_CB})",
        "photos": photos,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    with_faces = sum(1 for boxes in photos.values() if boxes)
    faces = sum(len(boxes) for boxes in photos.values())
    print(f"{len(photos)} photos, {with_faces} with faces, {faces} faces: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
