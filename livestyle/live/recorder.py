"""The recorder thread: stylized frames to a video file, each at the time it was captured.

Frames arrive through a bounded queue (a full queue drops the frame and counts it; the
inference thread never waits). Each frame is written with its stream time, so a held picture
(drops, pause, a lost camera) is one frame shown for longer and a minute of live view is a
minute of video; a frame not later than the last one is skipped. Stopping never blocks the
caller: the thread writes what is queued and finalizes the file on its own, and it finalizes
the file on every way out. The file is made by livestyle.video.output: a partial file that
survives a crash while recording, the target's name once it is finished, and on a failed
write (a full disk) every whole frame written before it, with the message saying how many.

With a sound device, the recorder also runs its microphone (livestyle.live.audio) from start
to finalize: the file's time 0 is the first frame's capture time, and the sound is placed on
that same clock. A device that cannot open or fails is one line; the video goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

from livestyle.core.crashlog import keep_traceback
from livestyle.core.errors import LivestyleError, OutputError, failure_reason
from livestyle.core.outputs import check_output, check_writable
from livestyle.live.audio import AudioCapture
from livestyle.video.files import WRITABLE_VIDEO_SUFFIXES
from livestyle.video.output import Saved, VideoOutput
from livestyle.video.writer import OpenCVWriter, VideoWriter, WriterFactory, open_video_writer

__all__ = ["OpenCVWriter", "Recorder", "VideoWriter", "WriterFactory", "open_video_writer"]

log = logging.getLogger(__name__)

POLL_S = 0.05  # how often an idle recorder looks whether it was asked to stop
# The first frame waits this long for the microphone to open (it is opened at the start):
# the file's sound stream must be there from the start, or there is none.
SOUND_OPEN_WAIT_S = 2.0


def timestamped_name(prefix: str = "livestyle", suffix: str = ".mp4") -> str:
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"


def check_video_target(path: Path, overwrite: bool = False, inputs: Iterable[Path] = ()) -> Path:
    """A recording target must be a writable file path in a container the writers fill,
    none of `inputs`, and a new file unless `overwrite`."""
    if path.is_dir():
        raise OutputError(f"cannot record to {path}: it is a folder (give a file name)")
    check_output(path, inputs, overwrite)
    if path.suffix.lower() not in WRITABLE_VIDEO_SUFFIXES:
        raise OutputError(
            f"cannot record to {path}: use one of "
            f"{', '.join(WRITABLE_VIDEO_SUFFIXES)} as the extension"
        )
    return check_writable(path)


class Recorder(threading.Thread):
    """Writes submitted frames to `path`, each at its stream time (`fps` is the nominal rate)."""

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        queue_size: int = 64,
        writer_factory: WriterFactory = open_video_writer,
        on_error: Callable[[str], None] = lambda message: None,
        overwrite: bool = False,
        audio: str | None = None,
        on_notice: Callable[[str], None] = lambda message: None,
    ) -> None:
        super().__init__(name="livestyle-recorder", daemon=True)
        self.path = check_video_target(Path(path), overwrite)
        self.overwrite = overwrite
        self.fps = float(fps)
        self.writer_factory = writer_factory
        self.on_error = on_error
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self.finalized = threading.Event()  # set once the file is closed, however it ended
        self.frames_received = 0
        self.frames_written = 0  # frames in the file (the fixed-rate fallback repeats some)
        self.skipped = 0  # frames not later than the one before: nothing new to show
        self.dropped = 0
        self.error: str | None = None
        self.error_log: Path | None = None  # the file holding the failure's traceback, if any
        self.saved: Saved | None = None  # what the file holds, once finalized
        self._output: VideoOutput | None = None
        self._size: tuple[int, int] | None = None
        # Stream times of the first and last frame written: the file spans them.
        self.first_pts: float | None = None
        self.last_pts: float | None = None
        # The microphone (`audio`: FFmpeg's FORMAT:NAME), run by this thread; its failure
        # is a notice (one line), not the recording's error.
        self.sound = AudioCapture(audio, on_error=on_notice) if audio else None
        self.with_sound = False  # the file has a sound stream

    # --- producer side (inference thread): never blocks ---
    def submit(self, image: np.ndarray, pts: float, captured_at: float | None = None) -> bool:
        """Queue a frame at stream time `pts`; `captured_at` (the monotonic clock when it was
        captured) places the sound beside it."""
        if self.error is not None or self._stopping.is_set():
            return False
        try:
            self._queue.put_nowait((image, pts, captured_at))
            return True
        except queue.Full:
            self.dropped += 1
            return False

    def stop(self) -> None:
        """Take no more frames; the thread writes what is queued and finalizes. Returns at once."""
        self._stopping.set()

    def finish(self, timeout: float = 10.0) -> None:
        """Stop and wait (up to `timeout`) for the file to be finalized."""
        self.stop()
        if self.is_alive():
            self.join(timeout)

    @property
    def saving(self) -> bool:
        """Stopped, still writing what was queued or finalizing the file."""
        return self._stopping.is_set() and self.is_alive()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    # --- writer side ---
    def run(self) -> None:
        failure: Exception | None = None
        try:
            if self.sound is not None:
                self.sound.start()  # it opens the device on its own thread
            while True:
                try:
                    item = self._queue.get(timeout=POLL_S)
                except queue.Empty:
                    if self._stopping.is_set():
                        break  # asked to stop and nothing is left: finalize
                    continue
                self._write(*item)
        except Exception as exc:  # disk full, codec failure...: keep what is written
            failure = exc
            self._stopping.set()  # a failed recorder takes no more frames
            # A user's problem (a full disk) says it all in one line; a bug keeps its trace.
            if not isinstance(exc, LivestyleError):
                self.error_log = keep_traceback(exc, self.name)
        finally:
            try:
                saved = self._finalize()
                if failure is not None:
                    self._report(failure, saved)
            finally:
                self.finalized.set()

    def _report(self, failure: Exception, saved: Saved) -> None:
        """Say why the recording stopped and what its file holds (how many frames, where)."""
        message = f"recording to {self.path} stopped: {failure_reason(failure)}; {saved.describe()}"
        log.error(message)
        # Tell the owner first, so whoever sees `error` also sees the owner's reaction.
        self.on_error(message)
        self.error = message

    def _write(self, image: np.ndarray, pts: float, captured_at: float | None) -> None:
        self.frames_received += 1
        output = self._output
        if output is None:
            output = self._open(image, time.monotonic() if captured_at is None else captured_at)
            self.first_pts = pts
        elif self.last_pts is not None and pts <= self.last_pts:
            self.skipped += 1
            return
        if image.shape[1::-1] != self._size:
            image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
        self.frames_written += output.write(image, pts - (self.first_pts or 0.0))
        self.last_pts = pts

    def _open(self, image: np.ndarray, zero: float) -> VideoOutput:
        """The file, at the first frame's size; its time 0 is `zero` on the capture clock."""
        height, width = image.shape[:2]
        self._size = (width, height)
        options = {}
        if self.sound is not None and self._sound_ready():
            options["sound"] = self.sound.feed(zero)
        self._output = VideoOutput(
            self.path,
            self.fps,
            self._size,
            factory=self.writer_factory,
            overwrite=self.overwrite,
            **options,
        )
        self.with_sound = bool(options)
        log.info("recording to %s%s", self.path, " with sound" if options else "")
        return self._output

    def _sound_ready(self) -> bool:
        """The microphone opened (else it said why), or it is given up on (one line)."""
        sound = self.sound
        assert sound is not None
        if sound.wait_ready(SOUND_OPEN_WAIT_S):
            return True
        if not sound.ready.is_set():
            sound.give_up(f"did not open within {SOUND_OPEN_WAIT_S:.0f} s")
        return False

    def _stop_sound(self) -> None:
        """The microphone is closed once the file is (its thread closes the device)."""
        if self.sound is not None and self.sound.ident is not None:
            self.sound.stop()
            self.sound.join(1.0)
            self.sound.discard()

    def _finalize(self) -> Saved:
        """Finish the file and let go of queued frames; what the file holds."""
        self._stopping.set()  # a failed recorder takes no more frames either
        try:
            if self._output is not None:
                output, self._output = self._output, None
                self.saved = output.finish()
                if self.saved.path is not None:
                    log.info("saved %s", self.saved.describe())
        finally:
            self._stop_sound()
            # Drain: a session keeps every Recorder, so none may keep frames alive.
            while not self._queue.empty():
                self._queue.get_nowait()
        return self.saved or Saved(None)
