"""A video file in the making, written so that nothing recorded is lost.

Frames go to a partial file beside the target (livestyle.core.outputs: `me.partial.mp4` for
`me.mp4`), which the OS is told to put on the disk every second (fsync): a crash or a power
cut leaves it playable up to its last second or two (the writer makes fragmented MP4). A
clean finish copies it into an ordinary MP4 with its index first and gives it the target's
name. A write that fails (a disk filled by another program, an I/O error) raises
OutputError; `finish` then keeps every whole frame written before it and says how many.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livestyle.core.errors import OutputError, failure_reason
from livestyle.core.outputs import FileLock, fcntl, fsync_file, partial_path, publish, try_lock
from livestyle.video.files import check_free_space
from livestyle.video.mp4 import (
    MOV_SUFFIXES,
    faststart_copy,
    frames_and_seconds,
    is_fragmented,
    trim_to_fragments,
)
from livestyle.video.writer import VideoWriter, WriterFactory, open_video_writer

log = logging.getLogger(__name__)

SYNC_EVERY_S = 1.0  # at most this much of what was written waits in the OS's cache
# Free disk space is checked every this many frames (video/files.py: check_free_space):
# stopping before the disk is full leaves room to finish the file.
DISK_CHECK_EVERY = 30


@dataclass(frozen=True)
class Saved:
    """What a finished (or failed) video file holds, and where."""

    path: Path | None  # None: no frame was written, no file is left
    frames: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        if self.path is None:
            return "no frame was saved"
        return f"{self.path} holds {self.frames} frames ({self.seconds:.1f} s)"


def write_error(target: Path, exc: OSError) -> OutputError:
    """One line for a failed write: the reason as the OS says it (No space left on device)."""
    return OutputError(f"cannot write {target}: {failure_reason(exc)}")


class VideoOutput:
    """Frames to `target` through a partial file; see the module's docstring.

    `factory` makes the encoder's writer (video/writer.py) for the partial file; `overwrite`
    lets the finished file replace an existing target, else it takes a free name beside it.
    """

    def __init__(
        self,
        target: Path,
        fps: float,
        size: tuple[int, int],
        *,
        factory: WriterFactory = open_video_writer,
        overwrite: bool = False,
        **writer_options: object,
    ) -> None:
        self.target = target
        self.overwrite = overwrite
        self.partial = partial_path(target)
        try:
            # Held while writing: a partial file nobody holds was left by a crash (recover).
            self._lock = FileLock(self.partial)
            self.writer: VideoWriter = factory(self.partial, fps, size, **writer_options)
        except BaseException:
            self.partial.unlink(missing_ok=True)
            raise
        self.frames_written = 0
        self._writes = 0
        self._synced_at = time.monotonic()
        self._open = True

    def write(self, frame: np.ndarray, time_s: float) -> int:
        """Add a frame shown from `time_s`; returns the frames the file gained. A full disk
        or an I/O error raises OutputError (call `finish` after it: it keeps what is whole)."""
        if self._writes % DISK_CHECK_EVERY == 0:
            check_free_space(self.target)
        self._writes += 1
        try:
            added = self.writer.write(frame, time_s)
        except OSError as exc:  # PyAV's errors with an errno are OSErrors too
            raise write_error(self.target, exc) from exc
        self.frames_written += added
        if time.monotonic() - self._synced_at >= SYNC_EVERY_S:
            self._lock.sync()
            self._synced_at = time.monotonic()
        return added

    def finish(self, publish_it: bool = True) -> Saved:
        """Close the file and keep what it holds. With `publish_it` it becomes the target (an
        ordinary MP4 where there is room to copy it), else it stays at its partial name (an
        interrupted `stylize`: not the whole video). Never raises: the file comes first."""
        if not self._open:
            raise RuntimeError("finish called twice")
        self._open = False
        try:
            self.writer.release()
        except Exception as exc:  # a full disk again, while flushing: keep what is whole
            log.warning("closing %s: %s", self.partial, failure_reason(exc))
        try:
            return keep(self.partial, self.target, self.overwrite, publish_it)
        finally:
            self._lock.release()


def keep(partial: Path, target: Path, overwrite: bool, publish_it: bool = True) -> Saved:
    """Keep what a closed (or crashed) partial file holds: its torn end cut, then as the
    target (see `finish`) or under its own name; an empty one is removed."""
    if not partial.exists() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        return Saved(None)
    if partial.suffix.lower() in MOV_SUFFIXES:
        trim_to_fragments(partial)
    frames, seconds = frames_and_seconds(partial)
    if frames == 0:  # nothing written, or nothing whole: no file is better than an empty one
        partial.unlink(missing_ok=True)
        return Saved(None)
    if not publish_it:
        fsync_file(partial)
        return Saved(partial, frames, seconds)
    try:
        path = _publish(partial, target, overwrite)
    except OSError as exc:  # no room to even rename: the partial file is what there is
        log.warning("cannot move %s to %s: %s", partial, target, failure_reason(exc))
        return Saved(partial, frames, seconds)
    return Saved(path, frames, seconds)


def _publish(partial: Path, target: Path, overwrite: bool) -> Path:
    """The finished file at the target: fragmented MP4 copied with its index first."""
    if partial.suffix.lower() in MOV_SUFFIXES and is_fragmented(partial):
        copy = partial_path(target)
        try:
            faststart_copy(partial, copy)
        except Exception as exc:  # no room for a second copy, say: keep the fragments
            copy.unlink(missing_ok=True)
            log.warning(
                "%s stays fragmented MP4 (it plays; seeking may be slower): %s",
                target,
                failure_reason(exc),
            )
        else:
            partial.unlink()
            partial = copy
    return publish(partial, target, overwrite)


# A partial file's name: the target's stem, .partial or .partial-N, the target's suffix.
PARTIAL_NAME = re.compile(r"\.partial(-\d+)?(?=\.[^.]+$)")


def recover(folder: Path, pattern: str) -> list[Saved]:
    """Finish the recordings a crash, SIGKILL or power cut left in `folder` as partial files
    matching `pattern` (livestyle-*.partial*.mp4): each becomes an ordinary video under its
    own name, never over an existing file. Files another running livestyle holds are left
    alone; so is everything on Windows, which has no advisory locks to tell them apart."""
    if fcntl is None or not folder.is_dir():
        return []
    recovered = []
    for partial in sorted(folder.glob(pattern)):
        lock = try_lock(partial)
        if lock is None:
            continue  # being written right now
        try:
            saved = keep(partial, partial.with_name(PARTIAL_NAME.sub("", partial.name)), False)
        finally:
            lock.release()
        if saved.path is not None:
            log.warning("recovered an interrupted recording: %s", saved.describe())
            recovered.append(saved)
    return recovered
