"""Sound for live recordings: a microphone (any FFmpeg input device) read on its own thread,
its samples placed on the capture clock that times the video frames.

A device is FORMAT:NAME as FFmpeg names it and opens it with PyAV: `alsa:default` on Linux
(PulseAudio and PipeWire serve it too), `avfoundation::default` on macOS,
`dshow:audio=Microphone (...)` on Windows, `lavfi:sine=frequency=440,arealtime` for a test
tone paced like a device. A name without a known format (`hw:1,0`) is one for the platform's
own format.

Timing: each block of samples is stamped with the monotonic clock when it arrives, less its
length (when its first sample was heard). A sound card's clock and the system clock differ
by up to ~0.1%: timed by its sample count alone, sound would stray 0.6 s from the picture
over 10 minutes. SampleClock keeps the sample count on the capture clock: a block whose
count time strays more than DEADBAND_S from its arrival is stretched or squeezed by up to
MAX_STRETCH (a pitch change nobody hears, no click), and one that strays more than half a
frame (lost samples, a stalled device) jumps there at once, a gap becoming silence.

The thread never blocks on the recording: blocks wait in a bounded buffer, the oldest
dropped (and counted) when the recorder falls BUFFER_S behind. A device that cannot open or
fails is one log line; the recording goes on without sound (livestyle.live.recorder).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

RATE = 48000  # every device is resampled to AAC's usual rate
FRAME_S = 1 / 30  # a video frame: sound and picture stay within one of each other
TOLERANCE_S = FRAME_S / 2  # beyond this, sound jumps to its place at once
DEADBAND_S = 0.005  # beyond this, blocks are stretched or squeezed towards their place
MAX_STRETCH = 0.01  # by at most 1%: 0.17 semitone for a block's 10-20 ms, no click
WINDOW_S = 0.5  # a block can arrive late, never early: the earliest of this long is truest
BUFFER_S = 15.0  # the recorder may fall this far behind (a slow first frame, a pause)
OPEN_TIMEOUT_S = 5.0  # FFmpeg gives up opening a device after this long
READ_TIMEOUT_S = 2.0  # ... and reading one that stopped delivering after this long
# The platform's default microphone; Windows (dshow) has no default name: --audio NAME.
DEFAULT_DEVICES = {"linux": "alsa:default", "darwin": "avfoundation::default"}
PLATFORM_FORMATS = {"linux": "alsa", "darwin": "avfoundation", "win32": "dshow"}
# PyAV's wheels carry their own ALSA library, which looks for its configuration where it
# was built; these are the system's, for a name like `default` to reach PulseAudio/PipeWire.
ALSA_CONFIGS = (Path("/usr/share/alsa/alsa.conf"),)
ALSA_PLUGIN_DIRS = tuple(
    Path(p)
    for p in (
        "/usr/lib/x86_64-linux-gnu/alsa-lib",
        "/usr/lib/aarch64-linux-gnu/alsa-lib",
        "/usr/lib64/alsa-lib",
        "/usr/lib/alsa-lib",
    )
)


def default_device(platform: str = sys.platform) -> str | None:
    """The default microphone's device here; None where it must be named (Windows)."""
    return DEFAULT_DEVICES.get("linux" if platform.startswith("linux") else platform)


def split_device(device: str, formats: set[str] | None = None) -> tuple[str, str]:
    """FORMAT:NAME -> (format, name); a name without a known format is the platform's."""
    if formats is None:
        import av

        formats = set(av.formats_available)
    fmt, sep, name = device.partition(":")
    if sep and fmt in formats:
        return fmt, name
    key = "linux" if sys.platform.startswith("linux") else sys.platform
    return PLATFORM_FORMATS.get(key, fmt), device


def prepare_alsa(environ: Any = os.environ) -> None:
    """Point the wheel's ALSA library at the system's configuration and plugins (unless the
    user did): without them only hardware names (hw:0) open, never `default`."""
    config = next((p for p in ALSA_CONFIGS if p.is_file()), None)
    plugins = next((p for p in ALSA_PLUGIN_DIRS if p.is_dir()), None)
    if config is not None:
        environ.setdefault("ALSA_CONFIG_PATH", str(config))
    if plugins is not None:
        environ.setdefault("ALSA_PLUGIN_DIR", str(plugins))


def stretch(samples: np.ndarray, length: int) -> np.ndarray:
    """(channels, n) samples resampled linearly to (channels, length)."""
    count = samples.shape[1]
    if length == count:
        return samples
    if count < 2 or length < 1:
        return np.zeros((samples.shape[0], max(length, 0)), np.float32)
    at = np.linspace(0.0, count - 1.0, length)
    grid = np.arange(count)
    return np.stack([np.interp(at, grid, channel) for channel in samples]).astype(np.float32)


@dataclass(frozen=True)
class AudioBlock:
    """Float samples (channels, n) whose first is sample `start` of the capture's timeline
    (sample 0 heard at the capture's `origin`)."""

    start: int
    samples: np.ndarray

    @property
    def end(self) -> int:
        return self.start + self.samples.shape[1]


class SampleClock:
    """Where each block of a device's samples goes on a timeline whose sample 0 is `origin`
    on the capture clock, so that it stays within a frame of when it was heard.

    `place(heard_at, n)` -> (start, length): the block's first sample index and how many
    samples it becomes (n, or a few more or fewer when it is stretched). A start after the
    previous block's end leaves a gap (silence), one before it overlaps (those samples go).
    """

    def __init__(
        self,
        rate: int = RATE,
        *,
        deadband_s: float = DEADBAND_S,
        tolerance_s: float = TOLERANCE_S,
        max_stretch: float = MAX_STRETCH,
        window_s: float = WINDOW_S,
    ) -> None:
        self.rate = rate
        self.deadband_s = deadband_s
        self.tolerance_s = tolerance_s
        self.max_stretch = max_stretch
        self.window_s = window_s
        self.origin: float | None = None
        self.counted = 0  # samples the device delivered
        self.next = 0  # where the next block goes: `counted` plus the corrections so far
        self.stretched = 0  # samples added (or, negative, removed) by stretching
        self.jumps = 0  # corrections made at once
        # (heard_at, how late it arrived against the device's count) over the last window.
        self._lateness: deque[tuple[float, float]] = deque()

    def place(self, heard_at: float, samples: int) -> tuple[int, int]:
        if self.origin is None:
            self.origin = heard_at
        lateness = heard_at - self.origin - self.counted / self.rate
        window = self._lateness
        window.append((heard_at, lateness))
        while window[0][0] < heard_at - self.window_s:
            window.popleft()
        # Delays only ever add: the least late block of the window tells the true offset.
        error = min(late for _, late in window) - (self.next - self.counted) / self.rate
        start, length = self.next, samples
        if abs(error) > self.tolerance_s:
            start += round(error * self.rate)
            self.jumps += 1
        elif abs(error) > self.deadband_s:
            limit = max(1, round(samples * self.max_stretch))
            length += max(-limit, min(limit, round(error * self.rate)))
            self.stretched += length - samples
        self.counted += samples
        self.next = start + length
        return start, length


class AudioCapture(threading.Thread):
    """Reads `device` until stopped, its blocks placed by a SampleClock, into a bounded
    buffer a recording takes them from (`feed`). It opens the device itself, so a slow or
    failing one never holds up the caller; `ready` is set once it opened or failed."""

    def __init__(
        self,
        device: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_error: Callable[[str], None] = lambda message: None,
        buffer_s: float = BUFFER_S,
    ) -> None:
        super().__init__(name="livestyle-audio", daemon=True)
        self.device = device
        self.clock = clock
        self.on_error = on_error
        self.buffer_s = buffer_s
        self.rate = RATE
        self.layout: str | None = None  # "mono" or "stereo", once open
        self.ready = threading.Event()  # open, or failed to open
        self.error: str | None = None
        self.placer = SampleClock(RATE)
        self.blocks_read = 0
        self.dropped = 0  # blocks the recorder never took (it fell BUFFER_S behind)
        self.opened_at: float | None = None  # the capture clock when it was asked to open
        self._blocks: deque[AudioBlock] = deque()
        self._held = 0  # samples in _blocks
        self._end = 0  # timeline index where the newest block ends
        self._ended = False
        self._quiet = False  # given up on by the recorder: no more lines
        self._cond = threading.Condition()
        self._stop_event = threading.Event()

    # --- control ---
    def stop(self) -> None:
        self._stop_event.set()

    def give_up(self, reason: str) -> None:
        """The recorder goes on without sound (the device is too slow to open): say so."""
        self._quiet = True
        self.stop()
        self._say(f"no sound: {self.device} {reason}; recording video only", force=True)

    def discard(self) -> None:
        """Let go of the sound no recording will take (a session keeps its recorders)."""
        with self._cond:
            self._blocks.clear()
            self._held = 0

    def wait_ready(self, timeout: float) -> bool:
        """True once the device is open; False if it failed or is not open within `timeout`."""
        return self.ready.wait(timeout) and self.layout is not None

    @property
    def origin(self) -> float | None:
        """The capture-clock time of timeline sample 0 (the first block's), once known."""
        return self.placer.origin

    @property
    def ended(self) -> bool:
        return self._ended

    def feed(self, zero: float) -> CaptureFeed:
        """The sound for a recording whose time 0 is `zero` on the capture clock."""
        return CaptureFeed(self, zero)

    # --- the thread ---
    def run(self) -> None:
        try:
            container = self._open()
        except Exception as exc:  # no such device, no permission, a typo in the filter...
            self._say(f"no sound: cannot open {self.device} ({reason(exc)}); recording video only")
            self._end_stream()
            return
        try:
            self._read(container)
        except Exception as exc:  # unplugged, or stopped delivering (READ_TIMEOUT_S)
            heard = 0.0 if self.opened_at is None else self.clock() - self.opened_at
            self._say(
                f"no sound from {self.device} after {heard:.1f} s ({reason(exc)}); "
                "the rest of the recording is silent"
            )
        finally:
            self._end_stream()
            try:
                container.close()
            except Exception as exc:  # the recording is what matters; a failed close is noted
                log.debug("closing %s: %s", self.device, exc)

    def _open(self) -> Any:
        import av

        fmt, name = split_device(self.device)
        if fmt == "alsa":
            prepare_alsa()
        self.opened_at = self.clock()
        container = av.open(name, format=fmt, timeout=(OPEN_TIMEOUT_S, READ_TIMEOUT_S))
        if not container.streams.audio:
            container.close()
            raise ValueError("it has no sound")
        return container

    def _read(self, container: Any) -> None:
        import av

        stream = container.streams.audio[0]
        self.layout = "mono" if stream.codec_context.layout.nb_channels == 1 else "stereo"
        resampler = av.AudioResampler(format="fltp", layout=self.layout, rate=RATE)
        self.ready.set()
        log.debug("sound from %s (%s)", self.device, self.layout)
        for frame in container.decode(stream):
            if self._stop_event.is_set():
                return
            # Its last sample was heard as it arrived: the first, its length earlier.
            heard_at = self.clock() - frame.samples / frame.sample_rate
            for out in resampler.resample(frame):
                samples = out.to_ndarray().astype(np.float32, copy=False)
                start, length = self.placer.place(heard_at, samples.shape[1])
                heard_at += samples.shape[1] / RATE
                self._push(AudioBlock(start, stretch(samples, length)))
        raise EOFError("the device ended")

    def _push(self, block: AudioBlock) -> None:
        with self._cond:
            self._blocks.append(block)
            self._held += block.samples.shape[1]
            self._end = max(self._end, block.end)
            while self._held > self.buffer_s * self.rate and len(self._blocks) > 1:
                old = self._blocks.popleft()  # the oldest goes: the newest is what is wanted
                self._held -= old.samples.shape[1]
                self.dropped += 1
            self.blocks_read += 1
            self._cond.notify_all()

    def _end_stream(self) -> None:
        with self._cond:
            self._ended = True
            self.ready.set()
            self._cond.notify_all()

    def _say(self, message: str, force: bool = False) -> None:
        if self._quiet and not force:
            return
        self.error = message
        log.warning(message)
        self.on_error(message)

    # --- the recorder's side ---
    def wait_for_sound(self, timeout: float) -> bool:
        """True once the first block is in (waiting up to `timeout` for it)."""
        with self._cond:
            if timeout > 0:
                self._cond.wait_for(lambda: self._ended or self.blocks_read > 0, timeout)
            return self.placer.origin is not None

    def take(self, until: int, wait_s: float = 0.0) -> list[AudioBlock]:
        """The blocks that start before timeline sample `until`, taken from the buffer; with
        `wait_s`, first wait up to that long for the sound up to `until` to arrive."""
        with self._cond:
            if wait_s > 0:
                self._cond.wait_for(lambda: self._ended or self._end >= until, wait_s)
            taken = []
            while self._blocks and self._blocks[0].start < until:
                block = self._blocks.popleft()
                self._held -= block.samples.shape[1]
                taken.append(block)
            return taken


class CaptureFeed:
    """An AudioCapture's sound for one recording, in the recording's own times: sample 0 is
    its first video frame's capture time (livestyle.video.writer's SoundFeed)."""

    def __init__(self, capture: AudioCapture, zero: float) -> None:
        self.capture = capture
        self.zero = zero
        self.rate = capture.rate
        self.layout = capture.layout or "mono"

    @property
    def ended(self) -> bool:
        return self.capture.ended

    def take(self, until: float, wait_s: float = 0.0) -> list[tuple[int, np.ndarray]]:
        """(first sample's index in the file, samples) of the blocks that start before
        `until` seconds; with `wait_s`, waiting up to that long for them to arrive."""
        if self.capture.origin is None and not self.capture.wait_for_sound(wait_s):
            return []  # no block yet
        offset = round((self.capture.origin - self.zero) * self.rate)
        blocks = self.capture.take(round(until * self.rate) - offset, wait_s)
        return [(block.start + offset, block.samples) for block in blocks]


def reason(exc: BaseException) -> str:
    """An FFmpeg error's own words, without PyAV's errno and file name ('Input/output error')."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())
