"""Image and video files: which suffixes are which, reading and writing images."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from livestyle.errors import OutputError, SourceError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv"}


def decode_image(path: Path) -> np.ndarray | None:
    """A BGR uint8 image, or None when the file is missing or not a readable image.

    Read as bytes and decoded, so paths OpenCV's imread cannot open (non-ASCII on Windows)
    work too."""
    if not path.is_file():
        return None
    data = np.fromfile(str(path), dtype=np.uint8)
    try:
        return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:  # a header claiming a size past OpenCV's limits, and the like
        return None


def read_image(path: Path) -> np.ndarray:
    """A BGR uint8 image, or a one-line error naming the file."""
    if not path.is_file():
        raise SourceError(f"cannot read {path}: no such file")
    image = decode_image(path)
    if image is None:
        raise SourceError(f"cannot read {path}: not a readable image")
    return image


def find_images(folder: Path, recursive: bool = False) -> list[Path]:
    """Image files in `folder` (and below it when `recursive`), sorted, by suffix."""
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def fit_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Scale down (never up) so the long side is at most `long_side`."""
    scale = long_side / max(image.shape[:2])
    if scale >= 1.0:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


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
