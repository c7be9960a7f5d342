"""Image and video files: which suffixes are which, reading and writing images."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from livestyle import memory
from livestyle.core.errors import OutputError, SourceError, TooLargeError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv"}
# The containers video/writer.py writes H.264 into (recordings and `stylize` outputs alike).
WRITABLE_VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi")
# Frames closer than this (or out of order) get a time of their own: one frame after the last.
MIN_FRAME_GAP_S = 1e-4
# A writer stops before the disk is this close to full: the file written so far must still
# have room to be finished (its index moved to the front needs a copy of it).
MIN_FREE_BYTES = 16 << 20


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


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header, nothing decoded; None where Pillow cannot
    tell (OpenCV may still read the file)."""
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # only the header is read; the bound is check_decodable's
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, UnidentifiedImageError, ValueError):
        return None


# A decoded image is 3 bytes a pixel, and the decoder may hold a second copy.
DECODE_BYTES_PER_PIXEL = 6


def check_decodable(path: Path) -> None:
    """Refuse, before decoding, an image too large to even hold in the memory there is."""
    size = image_size(path)
    usable = memory.usable_bytes()
    if size is None or usable is None:
        return
    width, height = size
    needed = DECODE_BYTES_PER_PIXEL * width * height
    if needed > usable:
        raise TooLargeError(
            f"cannot read {path}: a {width}x{height} image needs {needed / 2**30:.1f} GB to "
            f"decode and only {usable / 2**30:.1f} GB is free here: make it smaller"
        )


def read_image(path: Path) -> np.ndarray:
    """A BGR uint8 image, or a one-line error naming the file."""
    if not path.is_file():
        raise SourceError(f"cannot read {path}: no such file")
    check_decodable(path)
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


class VideoReader:
    """The frames of a video file, each with its time in seconds from the first.

    Opening fails with a one-line SourceError; iterating releases the file at the end (or
    use it as a context manager). `fps` and `frame_count` are the file's own claims (the
    count is None where the container does not say)."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise SourceError(f"cannot read {path}: no such file")
        self.path = path
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise SourceError(f"cannot read {path}: not a readable video")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or 30.0
        self.frame_count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        time: float | None = None
        try:
            while True:
                ok, frame = self._capture.read()
                if not ok:
                    return
                time = self._frame_time(time)
                yield frame, time
        finally:
            self.close()

    def _frame_time(self, previous: float | None) -> float:
        """The time of the frame just read; where the file gives no usable time (not later
        than the last), one frame interval after the last."""
        time = self._capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        if previous is None:
            return time if math.isfinite(time) and time >= 0 else 0.0
        if not time - previous >= MIN_FRAME_GAP_S:  # also catches NaN
            time = previous + 1.0 / self.fps
        return time

    def close(self) -> None:
        self._capture.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_free_space(path: Path) -> None:
    """Raise OutputError when the disk holding `path` is nearly full (see MIN_FREE_BYTES)."""
    folder = path.parent if str(path.parent) else Path(".")
    if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
        raise OutputError(
            f"cannot write {path}: disk full (less than {MIN_FREE_BYTES >> 20} MiB free)"
        )
