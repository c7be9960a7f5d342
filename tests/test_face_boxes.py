"""benchmarks/quality/face_boxes.py's profile faces: a one-sided detector run on the photo
and its mirror finds faces turned either way, in the photo's own pixels, and a box the
frontal detector already has is not added twice. The Haar cascades themselves are OpenCV's
(the benchmark env's); here a fake one-sided detector stands in for them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "quality" / "face_boxes.py"
spec = importlib.util.spec_from_file_location("livestyle_face_boxes", PATH)
face_boxes = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = face_boxes
spec.loader.exec_module(face_boxes)


class LeftHalfOnly:
    """Finds bright 20 px squares whose left edge is in the picture's left half: a detector
    that sees faces turned one way only, as the Haar profile cascade does."""

    def detectMultiScale(self, grey, *args, **kwargs):  # noqa: N802 (OpenCV's name)
        ys, xs = np.nonzero(grey[:-19, :-19] == 255)
        boxes = [
            [int(x), int(y), 20, 20]
            for y, x in zip(ys, xs, strict=True)
            if x < grey.shape[1] // 2 and (grey[y : y + 20, x : x + 20] == 255).all()
        ]
        return np.array(boxes).reshape(-1, 4)


def test_a_one_sided_detector_finds_faces_turned_both_ways_in_the_photos_pixels() -> None:
    grey = np.zeros((60, 200), np.uint8)
    grey[10:30, 10:30] = 255  # turned the detector's way
    grey[25:45, 150:170] = 255  # turned the other way: found only in the mirror
    found = face_boxes.detect_both_ways(LeftHalfOnly(), grey)
    assert sorted(found) == [[10, 10, 20, 20], [150, 25, 20, 20]]


def test_a_profile_box_over_a_frontal_one_is_not_a_second_face() -> None:
    frontal = [[100, 100, 50, 50]]
    same_face = [110, 95, 40, 40]  # mostly inside the frontal box
    other_face = [300, 100, 40, 40]
    kept = face_boxes.add_new(frontal, [same_face, other_face, [305, 102, 38, 38]])
    assert kept == [[100, 100, 50, 50], other_face]


def test_the_checked_profile_file_keeps_every_checked_frontal_face() -> None:
    folder = PATH.parent
    frontal = face_boxes.json.loads((folder / "shared_photos_faces.json").read_text())
    profiles = face_boxes.json.loads((folder / "shared_photos_faces_profiles.json").read_text())
    for photo, boxes in frontal["photos"].items():
        assert all(box in profiles["photos"][photo] for box in boxes), photo
    assert sum(map(len, profiles["photos"].values())) > sum(map(len, frontal["photos"].values()))
