"""The capture thread: reads a source into the latest-frame slot, paced, reopening a lost camera."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from livestyle.core.crashlog import keep_traceback
from livestyle.live.slot import Frame, LatestSlot
from livestyle.video.sources import FrameSource

log = logging.getLogger(__name__)


class CaptureThread(threading.Thread):
    """Reads a source into a LatestSlot until stopped, the source ends, or `max_frames`.

    A live source that fails is reopened with back-off ("camera lost, retrying"); a file
    ends (or rewinds with `loop`). The slot is closed when capture ends, so the consumer knows.
    The thread owns the source: it closes it when its loop ends, however it ends, because only
    this thread knows that no read() is in progress (closing a V4L2 or network camera in the
    middle of one is undefined behaviour).
    """

    def __init__(
        self,
        source: FrameSource,
        slot: LatestSlot[Frame],
        *,
        loop: bool = False,
        max_frames: int | None = None,
        on_status: Callable[[str], None] = lambda message: None,
        clock: Callable[[], float] = time.monotonic,
        retry_delays: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0),
    ) -> None:
        super().__init__(name="livestyle-capture", daemon=True)
        self.source = source
        self.slot = slot
        self.loop = loop
        self.max_frames = max_frames
        self.on_status = on_status
        self.clock = clock
        self.retry_delays = retry_delays
        self.captured = 0
        self.error: BaseException | None = None
        self.error_log: Path | None = None  # the file holding error's traceback, if any
        self._stop_event = threading.Event()

    def stop(self) -> None:
        self._stop_event.set()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def run(self) -> None:
        try:
            self._capture_loop()
        except BaseException as exc:  # reported by the pipeline, never lost with the thread
            self.error_log = keep_traceback(exc, self.name)  # set first: it goes with error
            self.error = exc
            log.error("capture failed: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        finally:
            self.slot.close()  # first: the consumer hears of the end even if close() hangs
            self._close_source()

    def _close_source(self) -> None:
        try:
            self.source.close()
        except Exception as exc:  # the run is over either way; a failed close is only noted
            log.warning("closing %s failed: %s", self.source.name, exc)

    def _capture_loop(self) -> None:
        interval = 1.0 / self.source.fps
        start = self.clock()
        pts_offset = 0.0
        since_start = 0  # frames since start (or the last rewind), for pacing
        while not self.stopping:
            if self.max_frames is not None and self.captured >= self.max_frames:
                return
            if self.source.paced:
                self._stop_event.wait(max(0.0, start + since_start * interval - self.clock()))
            image = self.source.read()
            if image is None:
                if self.source.live:
                    self._recover()  # pts stays wall-clock, so a recording spans the gap
                    continue
                if not self.loop or not self.source.reopen():
                    return
                pts_offset += since_start * interval
                start, since_start = self.clock(), 0
                continue
            now = self.clock()
            pts = pts_offset + (since_start * interval if self.source.paced else now - start)
            self.slot.put(Frame(image, self.captured, pts, now))
            self.captured += 1
            since_start += 1

    def _recover(self) -> None:
        """Reopen a lost live source with back-off until it is back or we are stopped."""
        self.on_status("camera lost, retrying")
        log.warning("%s: reads failing, retrying", self.source.name)
        attempt = 0
        while not self.stopping:
            delay = self.retry_delays[min(attempt, len(self.retry_delays) - 1)]
            if self._stop_event.wait(delay):
                break
            attempt += 1
            if self.source.reopen():
                self.on_status("")
                log.info("%s: back after %d retries", self.source.name, attempt)
                return
