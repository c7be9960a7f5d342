"""Frame sources (camera, video file, stream URL, built-in demo) and the capture thread.

The capture thread reads as fast as its source delivers (a file or the demo is paced to its
own frame rate) and puts each frame into a latest-frame slot: whoever consumes always gets
the newest frame, and frames nobody took in time are dropped and counted, never queued.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import cv2
import numpy as np

from .errors import SourceError

log = logging.getLogger(__name__)

T = TypeVar("T")
DEMO = "demo"
DEFAULT_FPS = 30.0


@dataclass
class Frame:
    """One captured frame. `pts` is its time in the stream (seconds from the first frame),
    `captured_at` the monotonic clock when it was read (for latency)."""

    image: np.ndarray
    index: int
    pts: float
    captured_at: float


class LatestSlot(Generic[T]):
    """A one-item mailbox: `put` replaces what is there, `get` waits for something new.

    Replacing an item nobody took counts as a drop. `close` wakes a waiting consumer; after
    it, `get` returns what is left once and then None.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.dropped = 0
        self.put_count = 0

    def put(self, item: T) -> bool:
        """Store item; True when it replaced one that was never taken (a drop)."""
        with self._cond:
            replaced = self._item is not None
            if replaced:
                self.dropped += 1
            self._item = item
            self.put_count += 1
            self._cond.notify_all()
            return replaced

    def get(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout`; None on timeout or when closed and empty."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """1 while an item waits to be taken, else 0 (for monitoring)."""
        return 0 if self._item is None else 1

    def exhausted(self) -> bool:
        """Closed and nothing left to take."""
        with self._cond:
            return self._closed and self._item is None


class FrameSource(Protocol):
    """Anything that yields BGR uint8 frames."""

    name: str
    fps: float
    # Files and the demo are paced to `fps` in live mode; cameras pace themselves.
    paced: bool
    # A camera or stream may drop out and come back; a file just ends.
    live: bool

    def read(self) -> np.ndarray | None:
        """Next frame, or None when the source has ended or failed."""

    def reopen(self) -> bool:
        """Try to reopen after a failure (cameras); rewind (files). True on success."""

    def close(self) -> None: ...


class OpenCVSource:
    """A camera index, a video file or a stream URL through OpenCV."""

    def __init__(
        self,
        spec: str | int,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        self.spec = spec
        self.is_camera = isinstance(spec, int)
        self.is_file = not self.is_camera and Path(str(spec)).exists()
        self.live = not self.is_file
        self.paced = self.is_file
        self.name = f"camera {spec}" if self.is_camera else str(spec)
        self._request = (width, height, fps)
        self._cap = self._open()
        reported = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and 1 <= reported <= 240 else (fps or DEFAULT_FPS)
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)) if self.is_file else 0

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise SourceError(self._cannot_open())
        width, height, fps = self._request
        if self.is_camera:
            if width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            if fps:
                cap.set(cv2.CAP_PROP_FPS, fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep latency low: no driver-side backlog
        return cap

    def _cannot_open(self) -> str:
        if self.is_camera:
            return f"no camera at index {self.spec} (try --source demo or --source VIDEO_FILE)"
        if not self.is_file and "://" not in str(self.spec):
            return f"cannot open {self.spec}: no such file"
        return f"cannot open {self.spec}: not a readable video or stream"

    def read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        return frame

    def reopen(self) -> bool:
        if self.is_file:
            return bool(self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0))
        self._cap.release()
        try:
            self._cap = self._open()
        except SourceError:
            return False
        return True

    def close(self) -> None:
        self._cap.release()


class DemoSource:
    """A procedurally drawn test scene: moving shapes, gradients and text. Needs no files."""

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = DEFAULT_FPS,
        cycle: int | None = None,
    ) -> None:
        self.name = DEMO
        self.fps = float(fps)
        self.paced = True
        self.live = False
        self.width, self.height = width, height
        self._index = 0
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        self._xs, self._ys = xs / max(1, width - 1), ys / max(1, height - 1)
        # Benchmarks: drawing a 1080p frame takes ~20 ms of CPU, too slow for a 60 fps source,
        # so `cycle` frames are drawn up front and replayed in a loop.
        self._frames = [self._draw(i) for i in range(cycle)] if cycle else None

    def _draw(self, index: int) -> np.ndarray:
        return draw_demo_frame(self._xs, self._ys, index / self.fps)

    def read(self) -> np.ndarray | None:
        index = self._index
        self._index += 1
        if self._frames is not None:
            return self._frames[index % len(self._frames)].copy()
        return self._draw(index)

    def reopen(self) -> bool:
        self._index = 0
        return True

    def close(self) -> None:
        pass


def draw_demo_frame(xs: np.ndarray, ys: np.ndarray, t: float) -> np.ndarray:
    """One frame of the demo scene at time t (seconds)."""
    height, width = xs.shape
    # A slowly drifting colour gradient as the background.
    b = 0.5 + 0.5 * np.sin(2 * math.pi * (xs + 0.1 * t))
    g = 0.5 + 0.5 * np.sin(2 * math.pi * (ys + 0.07 * t) + 2.0)
    r = 0.5 + 0.5 * np.sin(2 * math.pi * (xs + ys - 0.05 * t) + 4.0)
    frame = (np.dstack([b, g, r]) * 200 + 20).astype(np.uint8)
    scale = min(width, height)
    cx = int(width * (0.5 + 0.3 * math.cos(t * 0.9)))
    cy = int(height * (0.5 + 0.25 * math.sin(t * 1.3)))
    cv2.circle(frame, (cx, cy), int(scale * 0.15), (40, 60, 230), -1, cv2.LINE_AA)
    angle = t * 40.0
    box = cv2.boxPoints(((width * 0.3, height * 0.65), (scale * 0.3, scale * 0.18), angle))
    cv2.fillPoly(frame, [box.astype(np.int32)], (230, 200, 40), cv2.LINE_AA)
    tri_x = int(width * (0.75 + 0.1 * math.sin(t)))
    tri = np.array(
        [
            [tri_x, int(height * 0.15)],
            [tri_x - scale // 8, int(height * 0.4)],
            [tri_x + scale // 8, int(height * 0.4)],
        ],
        np.int32,
    )
    cv2.fillPoly(frame, [tri], (60, 220, 90), cv2.LINE_AA)
    font_scale = scale / 400
    cv2.putText(
        frame,
        "livestyle demo",
        (int(width * 0.05), int(height * 0.12)),
        cv2.FONT_HERSHEY_DUPLEX,
        font_scale * 1.2,
        (255, 255, 255),
        2,
        cv2.LINE_AA,
    )
    cv2.putText(
        frame,
        f"t = {t:6.2f} s",
        (int(width * 0.05), int(height * 0.92)),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        (20, 20, 20),
        2,
        cv2.LINE_AA,
    )
    return frame


def open_source(
    spec: str, width: int | None = None, height: int | None = None, fps: float | None = None
) -> FrameSource:
    """Open `demo`, a camera index ('0'), a video file or a stream URL."""
    if spec == DEMO:
        return DemoSource(width or 640, height or 480, fps or DEFAULT_FPS)
    if spec.isdigit():
        return OpenCVSource(int(spec), width, height, fps)
    if "://" not in spec and not Path(spec).exists():
        raise SourceError(f"cannot open {spec}: no such file")
    return OpenCVSource(spec, width, height, fps)


class CaptureThread(threading.Thread):
    """Reads a source into a LatestSlot until stopped, the source ends, or `max_frames`.

    A live source that fails is reopened with back-off ("camera lost, retrying"); a file
    ends (or rewinds with `loop`). The slot is closed when capture ends, so the consumer knows.
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
            self.error = exc
            log.error("capture failed: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
        finally:
            self.slot.close()

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
