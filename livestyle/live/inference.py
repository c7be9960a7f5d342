"""The inference thread: newest frame in, stylized frame out to every sink, stats kept; while
the style strip is shown, one style's thumbnail after each frame (livestyle.live.thumbnails);
with a governor, the network's size follows the machine (livestyle.live.adaptive)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from livestyle.core.crashlog import keep_traceback
from livestyle.core.errors import OutOfMemory
from livestyle.live.adaptive import SizeFade, SizeGovernor
from livestyle.live.slot import Frame, LatestSlot
from livestyle.live.thumbnails import Thumbnail, ThumbnailRound
from livestyle.steady import SteadyStream
from livestyle.stylizer import Stylizer

log = logging.getLogger(__name__)


@dataclass
class StylizedFrame:
    """What the inference thread produces for the display and the recorder."""

    original: np.ndarray
    stylized: np.ndarray
    index: int
    pts: float
    captured_at: float
    ready_at: float
    style: str

    @property
    def latency_ms(self) -> float:
        return (self.ready_at - self.captured_at) * 1000.0


class Stats:
    """Counters and recent timings, written by the inference thread, read by anyone."""

    def __init__(self, window: int = 2000) -> None:
        self.stylized = 0
        self.inference_ms: deque[float] = deque(maxlen=window)
        self.latency_ms: deque[float] = deque(maxlen=window)
        self._ready_times: deque[float] = deque(maxlen=120)
        self.started_at = time.monotonic()
        self.last_ready_at: float | None = None
        self.frame_shape: tuple[int, int] | None = None  # the last frame's (height, width)

    def record(self, inference_ms: float, frame: StylizedFrame) -> None:
        self.stylized += 1
        self.inference_ms.append(inference_ms)
        self.latency_ms.append(frame.latency_ms)
        self._ready_times.append(frame.ready_at)
        self.last_ready_at = frame.ready_at
        self.frame_shape = (frame.original.shape[0], frame.original.shape[1])

    @property
    def run_fps(self) -> float:
        """Frames stylized per second from the start to the last frame: the time a window
        stays open after the source ended is not part of the rate."""
        if self.last_ready_at is None:
            return 0.0
        return self.stylized / max(1e-9, self.last_ready_at - self.started_at)

    @property
    def fps(self) -> float:
        """Output frame rate over the last couple of seconds of frames."""
        times = list(self._ready_times)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def percentile(self, values: deque[float], q: float) -> float:
        data = list(values)
        return float(np.percentile(data, q)) if data else float("nan")


class InferenceThread(threading.Thread):
    """Takes the newest frame, stylizes it, hands the result to every sink; then, while
    `thumbnails` is on, makes one style's thumbnail and hands it to every thumbnail sink."""

    def __init__(
        self,
        slot: LatestSlot[Frame],
        stylizer: Stylizer,
        sinks: list[Callable[[StylizedFrame], None]],
        stats: Stats,
        on_status: Callable[[str], None] = lambda message: None,
        thumbnails: ThumbnailRound | None = None,
        steady: bool = True,
        governor: SizeGovernor | None = None,
    ) -> None:
        super().__init__(name="livestyle-inference", daemon=True)
        self.slot = slot
        self.stylizer = stylizer
        self.sinks = sinks
        self.stats = stats
        self.on_status = on_status
        self.thumbnails = thumbnails or ThumbnailRound()
        # Where the camera's picture stands still, the stream is smoothed over time (key T).
        self.stream = SteadyStream(stylizer, steady)
        # Chooses the network's long side from the frames' times; None: the size is pinned.
        self.governor = governor
        self.fade = SizeFade()  # a size change blends in rather than jumps
        self.thumbnail_sinks: list[Callable[[Thumbnail], None]] = []
        self.paused = False
        self.paused_dropped = 0
        self.error: BaseException | None = None
        self.error_log: Path | None = None  # the file holding error's traceback, if any
        self._stop_event = threading.Event()

    @property
    def steady(self) -> bool:
        return self.stream.steady

    @steady.setter
    def steady(self, on: bool) -> None:
        self.stream.steady = on

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                frame = self.slot.get(timeout=0.1)
                if frame is None:
                    if self.slot.exhausted():
                        return
                    continue
                if self.paused:
                    self.paused_dropped += 1
                    continue
                self._process(frame)
        except BaseException as exc:  # reported by the pipeline, never lost with the thread
            self.error_log = keep_traceback(exc, self.name)  # set first: it goes with error
            self.error = exc
            log.error("inference failed: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))

    def _process(self, frame: Frame) -> None:
        began = time.perf_counter()
        try:
            stylized = self.stream(frame.image)
        except OutOfMemory:
            self._shrink_after_oom(*frame.image.shape[:2])
            return
        image = self.fade(stylized.image)
        elapsed_ms = (time.perf_counter() - began) * 1000.0
        result = StylizedFrame(
            frame.image,
            image,
            frame.index,
            frame.pts,
            frame.captured_at,
            time.monotonic(),
            stylized.style.name,  # the style it was made with, even if swapped meanwhile
        )
        self.stats.record(elapsed_ms, result)
        for sink in self.sinks:
            sink(result)
        self._adapt_size(frame.image.shape[0], frame.image.shape[1], elapsed_ms / 1000.0)
        # After the sinks: the main frame is on its way before any thumbnail work starts.
        if self.thumbnails.due(frame_waiting=self.slot.pending > 0):
            self._thumbnail(frame)

    @property
    def adapting(self) -> bool:
        """The governor chooses the size: one is set, and out of memory has not taken over."""
        return self.governor is not None and self.stylizer.network_size.long_side is not None

    def _adapt_size(self, height: int, width: int, seconds: float) -> None:
        """Tell the governor this frame's time; take the long side it chooses, if any."""
        if self.governor is None or not self.adapting:
            return  # pinned, or out of memory shrank it: then memory decides, not speed
        before = self.stylizer.network_shape(height, width)
        long_side = self.governor.observe(seconds, before[0] * before[1])
        if long_side is None:
            return
        size = self.stylizer.network_size
        # Per-style stroke scales keep dividing the new long side.
        self.stylizer.network_size = dataclasses.replace(size, long_side=long_side)
        after = self.stylizer.network_shape(height, width)
        if after != before:  # a frame smaller than both sizes looks the same: nothing to fade
            self.fade.begin()
        log.info(
            "network size %d -> %d px (%dx%d) to keep %.0f fps",
            size.long_side,
            long_side,
            after[1],
            after[0],
            self.governor.target_fps,
        )

    def _thumbnail(self, frame: Frame) -> None:
        try:
            thumbnail = self.thumbnails.make(self.stylizer, frame.image, frame.index)
        except OutOfMemory:
            self._shrink_after_oom(*frame.image.shape[:2])  # the device is full for both
            return
        for sink in self.thumbnail_sinks:
            sink(thumbnail)

    def _shrink_after_oom(self, height: int, width: int) -> None:
        """Out of GPU memory: run the network smaller rather than stop."""
        # Free the captured graphs' pools first: they hold the memory of the old size.
        self.stylizer.release_device_memory()
        # Shrink from the size actually used: --infer-size may already be below the frame's.
        net_h, net_w = self.stylizer.network_shape(height, width)
        smaller = self.stylizer.network_size.shrunk((net_h, net_w), (height, width))
        if smaller is None:
            raise RuntimeError(f"out of GPU memory even at {net_w}x{net_h} inference size")
        self.stylizer.network_size = smaller
        message = f"out of GPU memory: inference scale lowered to {smaller.scale:.2f}"
        log.warning(message)
        self.on_status(message)
