"""The recorder thread: stylized frames to an MP4 whose duration matches wall-clock time.

Frames arrive through a bounded queue (a full queue drops the frame and counts it; the
inference thread never waits). Each frame is placed at its stream time on the file's fixed
frame rate: a gap is filled by repeating the last frame, an early frame is skipped, so a
minute of live view is a minute of video. The file is finalized on every way out.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from .errors import OutputError

log = logging.getLogger(__name__)

FOURCC = "mp4v"  # MPEG-4 Part 2: every OpenCV build writes it, every player reads it
# Containers OpenCV's FFmpeg writes mp4v into (WebM and others refuse it on the first frame).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi")
# OpenCV's writer fails silently on a full disk, so free space is checked this often (frames).
DISK_CHECK_EVERY = 30
MIN_FREE_BYTES = 16 << 20
_STOP = object()


class VideoWriter(Protocol):
    def write(self, frame: np.ndarray) -> None: ...

    def release(self) -> None: ...


class OpenCVWriter:
    """cv2.VideoWriter that raises instead of silently writing nothing."""

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        self.path = path
        self._writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC), fps, size)
        if not self._writer.isOpened():
            raise OutputError(f"cannot write video {path}")

    def write(self, frame: np.ndarray) -> None:
        self._writer.write(frame)

    def release(self) -> None:
        self._writer.release()


WriterFactory = Callable[[Path, float, tuple[int, int]], VideoWriter]


def timestamped_name(prefix: str = "livestyle", suffix: str = ".mp4") -> str:
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"


def check_writable(path: Path) -> Path:
    """Fail early, in one line, when the output folder is missing or read-only."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    probe = folder / f".livestyle-write-test-{threading.get_ident()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def check_video_target(path: Path) -> Path:
    """A recording target must be a writable file path with a container mp4v fits in."""
    if path.is_dir():
        raise OutputError(f"cannot record to {path}: it is a folder (give a file name)")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise OutputError(
            f"cannot record to {path}: use one of {', '.join(VIDEO_SUFFIXES)} as the extension"
        )
    return check_writable(path)


def check_free_space(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if shutil.disk_usage(folder).free < MIN_FREE_BYTES:
        raise OutputError(f"disk full (less than {MIN_FREE_BYTES >> 20} MiB free)")


class Recorder(threading.Thread):
    """Writes submitted frames to `path` at `fps`, paced by their stream timestamps."""

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        queue_size: int = 64,
        writer_factory: WriterFactory = OpenCVWriter,
        on_error: Callable[[str], None] = lambda message: None,
    ) -> None:
        super().__init__(name="livestyle-recorder", daemon=True)
        self.path = check_video_target(Path(path))
        self.fps = float(fps)
        self.writer_factory = writer_factory
        self.on_error = on_error
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self.frames_written = 0
        self.frames_received = 0
        self.dropped = 0
        self.error: str | None = None
        self._writer: VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        # Stream times of the first and last frame taken in: pacing makes the file span them.
        self.first_pts: float | None = None
        self.last_pts: float | None = None
        self._last: np.ndarray | None = None

    # --- producer side (inference thread): never blocks ---
    def submit(self, image: np.ndarray, pts: float) -> bool:
        if self.error is not None:
            return False
        try:
            self._queue.put_nowait((image, pts))
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def finish(self, timeout: float = 10.0) -> None:
        """Write what is queued, finalize the file, end the thread."""
        while True:
            try:
                self._queue.put(_STOP, timeout=0.1)
                break
            except queue.Full:
                if not self.is_alive():
                    break
        self.join(timeout)

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # --- writer side ---
    def run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                self._write_paced(*item)
        except Exception as exc:  # disk full, codec failure...: keep what is written
            message = f"recording to {self.path} stopped: {exc}"
            log.error(message)
            # Tell the owner first, so whoever sees `error` also sees the owner's reaction.
            self.on_error(message)
            self.error = message
        finally:
            self._finalize()

    def _write_paced(self, image: np.ndarray, pts: float) -> None:
        self.frames_received += 1
        if self._writer is None:
            self._open(image)
            self.first_pts = pts
        if image.shape[1::-1] != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        # Frame slot this picture belongs to on the file's fixed clock.
        target = round((pts - self.first_pts) * self.fps)
        if target < self.frames_written:
            return  # early: its slot is already filled
        self.last_pts = pts
        while self.frames_written < target and self._last is not None:
            self._put(self._last)  # a gap (drops, pause, lost camera): hold the last picture
        self._put(image)
        self._last = image

    def _open(self, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        self._size = (width, height)
        self._writer = self.writer_factory(self.path, self.fps, self._size)
        log.info("recording to %s", self.path)

    def _put(self, image: np.ndarray) -> None:
        if self.frames_written % DISK_CHECK_EVERY == 0:
            check_free_space(self.path)
        self._writer.write(image)  # type: ignore[union-attr]
        self.frames_written += 1

    def _finalize(self) -> None:
        if self._writer is not None:
            try:
                self._writer.release()
            except Exception as exc:  # nothing more can be saved; say so
                log.error("finalizing %s failed: %s", self.path, exc)
            self._writer = None
            log.info("saved %s (%d frames)", self.path, self.frames_written)
        self._last = None  # a session keeps every Recorder; don't keep a frame alive in each
        # Drain so a producer blocked in finish() can go on.
        while not self._queue.empty():
            self._queue.get_nowait()
