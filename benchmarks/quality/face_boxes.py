"""Where the faces are in the training photos, for `livestyle train --faces FILE
--face-weight W` (the content loss inside faces counts 1 + W times; issue 25).

Run once over a photo folder, in the benchmark's environment: OpenCV's Haar frontal-face
detector is there (OpenCV 5, the app's, moved it out of the main package), and training then
reads only the JSON, so the app gains no dependency:
    PYTHONPATH=. bench/bin/python benchmarks/quality/face_boxes.py PHOTOS_DIR OUT.json [--profiles]
--profiles adds the Haar profile-face detector's boxes (run on the photo and its mirror, as
it finds faces turned one way only) where no frontal box already covers them: the frontal
detector misses a face seen from the side, which training then painted over (round six).
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
PROFILE_CASCADE = "haarcascade_profileface.xml"
SAME_FACE_OVERLAP = 0.3  # intersection over the smaller box: a profile box of a frontal face
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


def detector(name: str = CASCADE) -> cv2.CascadeClassifier:
    if not hasattr(cv2, "CascadeClassifier"):
        raise SystemExit(f"OpenCV {cv2.__version__} has no Haar detector: see this file's doc")
    return cv2.CascadeClassifier(cv2.data.haarcascades + name)


def detect(cascade: cv2.CascadeClassifier, grey: np.ndarray) -> list[list[int]]:
    side = max(MIN_FACE_PX, round(min(grey.shape) * MIN_FACE_SHARE))
    found = cascade.detectMultiScale(grey, SCALE_FACTOR, MIN_NEIGHBORS, minSize=(side, side))
    return [[int(v) for v in box] for box in found]


def detect_both_ways(cascade: cv2.CascadeClassifier, grey: np.ndarray) -> list[list[int]]:
    """A one-sided detector's boxes on the picture and on its mirror, mirrored back."""
    width = grey.shape[1]
    mirrored = [[width - x - w, y, w, h] for x, y, w, h in detect(cascade, grey[:, ::-1].copy())]
    return detect(cascade, grey) + mirrored


def overlap_of_smaller(a: list[int], b: list[int]) -> float:
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / float(min(a[2] * a[3], b[2] * b[3]))


def add_new(boxes: list[list[int]], candidates: list[list[int]]) -> list[list[int]]:
    """boxes, then each candidate that no box kept so far already covers."""
    kept = list(boxes)
    for box in candidates:
        if all(overlap_of_smaller(box, other) < SAME_FACE_OVERLAP for other in kept):
            kept.append(box)
    return kept


def face_boxes(
    cascade: cv2.CascadeClassifier, path: Path, profile: cv2.CascadeClassifier | None = None
) -> list[list[int]]:
    """The faces in one photo as [x, y, w, h] in its pixels; [] for none or an unreadable file.
    With a profile cascade, its boxes (both ways) that the frontal ones do not cover too."""
    bgr = decode_image(path)
    if bgr is None:
        return []
    grey = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    boxes = detect(cascade, grey)
    if profile is not None:
        boxes = add_new(boxes, detect_both_ways(profile, grey))
    return [box for box in boxes if skin_share(bgr, box) >= MIN_SKIN_SHARE]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", type=Path, help="the training photos' folder (--data)")
    parser.add_argument("out", type=Path, help="the JSON file to write (for --faces)")
    parser.add_argument(
        "--profiles", action="store_true", help="add faces seen from the side (profile cascade)"
    )
    args = parser.parse_args()
    try:
        paths = find_photos(args.photos)
    except LivestyleError as exc:
        print(f"face_boxes: {exc}", file=sys.stderr)
        return 2
    cascade = detector()
    profile = detector(PROFILE_CASCADE) if args.profiles else None
    photos = {p.relative_to(args.photos).as_posix(): face_boxes(cascade, p, profile) for p in paths}
    cascades = CASCADE + (f" + {PROFILE_CASCADE} (and mirrored)" if profile else "")
    record = {
        "detector": f"OpenCV {cv2.__version__} {cascades} scaleFactor={SCALE_FACTOR} "
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
