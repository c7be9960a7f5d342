"""Image and video files: which suffixes are which, reading and writing images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from livestyle.errors import OutputError, SourceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv"}


def read_image(path: Path) -> np.ndarray:
    """A BGR uint8 image, or a one-line error naming the file."""
    if not path.is_file():
        raise SourceError(f"cannot read {path}: no such file")
    data = np.fromfile(str(path), dtype=np.uint8)
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:  # a header claiming a size past OpenCV's limits, and the like
        image = None
    if image is None:
        raise SourceError(f"cannot read {path}: not a readable image")
    return image


def write_image(path: Path, image: np.ndarray) -> Path:
    try:
        ok, encoded = cv2.imencode(path.suffix or ".png", image)
    except cv2.error:  # OpenCV raises, rather than returns False, for suffixes it cannot write
        ok = False
    if not ok:
        raise OutputError(f"cannot write {path}: unsupported image format '{path.suffix}'")
    try:
        encoded.tofile(str(path))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
