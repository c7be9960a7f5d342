"""Fakes and helpers the tests share: sources, writers and waits around the real pipeline.

Faults are made with these (a camera that drops out, a driver that throws, a disk that fills
up) so the real threads, recorder and files can be checked against them.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from livestyle.live.pipeline import Pipeline
from livestyle.video.demo import DemoSource
from livestyle.video.writer import VideoWriter, open_video_writer

SIZE = (64, 48)  # width, height: small enough for the 2-CPU test machine


# --- waits and pictures ---
def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def stop_quickly(pipeline: Pipeline) -> None:
    """Stop the pipeline; every thread must be gone within two seconds."""
    began = time.monotonic()
    pipeline.stop()
    assert time.monotonic() - began < 2.0
    assert not any(t.is_alive() for t in pipeline.threads)


def noise(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (SIZE[1], SIZE[0], 3), np.uint8)


def solid_frame(value: int, size: tuple[int, int] = (8, 6)) -> np.ndarray:
    """A width x height picture of one grey level (the level tells frames apart)."""
    return np.full((size[1], size[0], 3), value, np.uint8)


# --- sources ---
class FlakyCamera:
    """A live, self-paced source whose reads fail from read `fail_at` on; the first
    `reopen_failures` reopen attempts fail, the next succeeds and frames flow again."""

    name = "fake camera"
    fps = 30.0
    paced = False
    live = True

    def __init__(self, fail_at: int, reopen_failures: int | None) -> None:
        self.fail_at = fail_at
        self.reopen_failures = reopen_failures  # None: never comes back
        self.reads = 0
        self.lost = False
        self.reopen_times: list[float] = []
        self.back_at: float | None = None
        self.closed = False
        self._rng = np.random.default_rng(0)

    def read(self) -> np.ndarray | None:
        time.sleep(1 / self.fps)  # a camera delivers at its own rate
        self.reads += 1
        if self.reads == self.fail_at:
            self.lost = True
        return None if self.lost else noise(self._rng)

    def reopen(self) -> bool:
        self.reopen_times.append(time.monotonic())
        if self.reopen_failures is None or len(self.reopen_times) <= self.reopen_failures:
            return False
        self.lost = False
        self.back_at = time.monotonic()
        return True

    def close(self) -> None:
        self.closed = True


class DemoClip(DemoSource):
    """The demo, paced at `fps`, that ends like a file after `frames` reads (None: never) or
    whose driver throws on read `fail_at` (counted from 0); it counts its closes."""

    def __init__(
        self, frames: int | None = None, fail_at: int | None = None, fps: float = 30.0
    ) -> None:
        super().__init__(*SIZE, fps=fps)
        self.frames = frames
        self.fail_at = fail_at
        self.closes = 0

    def read(self) -> np.ndarray | None:
        if self._index == self.fail_at:
            raise OSError("driver fell over")
        if self.frames is not None and self._index >= self.frames:
            return None
        return super().read()

    def close(self) -> None:
        self.closes += 1


class BuggyCamera(DemoClip):
    """The demo whose driver code has a bug: read `fail_at` raises KeyError('x') from
    grab_from_driver (the name a traceback must show)."""

    def read(self) -> np.ndarray | None:
        if self._index == self.fail_at:
            self.grab_from_driver()
        return super().read()

    def grab_from_driver(self) -> None:
        raise KeyError("x")


class StuckCamera:
    """A live camera whose read() blocks until the test lets it go (a V4L2 or network camera
    that hangs), and which notes whether close() came while a read was in progress."""

    name = "stuck camera"
    fps = 30.0
    paced = False
    live = True

    def __init__(self) -> None:
        self.in_read = threading.Event()
        self.let_go = threading.Event()
        self.reading = False
        self.closes = 0
        self.closed_during_read = False
        self._lock = threading.Lock()

    def read(self) -> np.ndarray | None:
        with self._lock:
            self.reading = True
        self.in_read.set()
        try:
            self.let_go.wait(30)
            return solid_frame(0, SIZE)
        finally:
            with self._lock:
                self.reading = False

    def reopen(self) -> bool:
        return True

    def close(self) -> None:
        with self._lock:
            self.closes += 1
            self.closed_during_read |= self.reading


# --- writers ---
class SpyWriter:
    """The real writer (H.264, or the mp4v fallback) that also keeps the frames and times it
    was given; after `good` frames its disk "fills up" (None: never)."""

    def __init__(self, good: int | None = None) -> None:
        self.good = good
        self.inner: VideoWriter | None = None
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []

    def __call__(self, path: Path, fps: float, size: tuple[int, int], **options) -> SpyWriter:
        self.inner = open_video_writer(path, fps, size, **options)
        return self

    def write(self, frame: np.ndarray, time: float) -> int:
        if self.good is not None and len(self.frames) >= self.good:
            raise OSError(28, "No space left on device")
        added = self.inner.write(frame, time)  # type: ignore[union-attr]
        self.frames.append(frame)
        self.times.append(time)
        return added

    def release(self) -> None:
        self.inner.release()  # type: ignore[union-attr]


class ListWriter:
    """Keeps written frames and their times in memory; can fail after a number of frames
    (a full disk). The instance is its own factory: pass it as a `writer_factory`."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []
        self.released = False
        self.fail_after = fail_after
        self.size: tuple[int, int] | None = None

    def __call__(self, path: Path, fps: float, size: tuple[int, int], **_options) -> ListWriter:
        self.size = size
        return self

    def write(self, frame: np.ndarray, time: float) -> int:
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise OSError(28, "No space left on device")
        self.frames.append(frame)
        self.times.append(time)
        return 1

    def release(self) -> None:
        self.released = True


class BlockedWriter(ListWriter):
    """Its release waits until the test lets it go: a slow finalization."""

    def __init__(self) -> None:
        super().__init__()
        self.releasing = threading.Event()
        self.let_go = threading.Event()

    def release(self) -> None:
        self.releasing.set()
        assert self.let_go.wait(10)
        super().release()


class BuggyWriter(ListWriter):
    """Its write `fail_after` raises ValueError from encode_packet (a bug in an encoder)."""

    def write(self, frame: np.ndarray, time: float) -> int:
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            self.encode_packet()
        return super().write(frame, time)

    def encode_packet(self) -> None:
        raise ValueError("encoder broke")


class LateFailingWriter(ListWriter):
    """Its first write waits until the test lets it go, then fails (a full disk): a recording
    whose error arrives after the user has moved on."""

    def __init__(self) -> None:
        super().__init__(fail_after=0)
        self.writing = threading.Event()
        self.let_go = threading.Event()

    def write(self, frame: np.ndarray, time: float) -> int:
        self.writing.set()
        self.let_go.wait(10)
        return super().write(frame, time)


# --- virtual cameras ---
class FakeVirtualCamera:
    """A virtual webcam in memory: keeps what it was sent. Like pyvirtualcam's, it refuses a
    frame of another size. `block` makes each send wait until the test sets `let_go`;
    `fail_at` makes send number fail_at (from 0) raise, as an unplugged device does."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: float,
        *,
        block: bool = False,
        fail_at: int | None = None,
    ) -> None:
        self.size, self.fps = (width, height), fps
        self.frames: list[np.ndarray] = []
        self.closed = False
        self.block = block
        self.fail_at = fail_at
        self.in_send = threading.Event()
        self.let_go = threading.Event()

    def send(self, frame: np.ndarray) -> None:
        assert frame.shape == (self.size[1], self.size[0], 3) and frame.dtype == np.uint8
        self.in_send.set()
        if self.block:
            self.let_go.wait(30)
        if len(self.frames) == self.fail_at:
            raise OSError("device unplugged")
        self.frames.append(frame)

    def close(self) -> None:
        self.closed = True


class FakeVirtualCams:
    """The `open_camera` factory of the virtual camera sink: opens FakeVirtualCameras and
    keeps them. Only the first camera blocks or fails, so the next switch-on works."""

    def __init__(self, *, block: bool = False, fail_at: int | None = None) -> None:
        self.cameras: list[FakeVirtualCamera] = []
        self.block = block
        self.fail_at = fail_at

    def __call__(self, width: int, height: int, fps: float) -> FakeVirtualCamera:
        first = not self.cameras
        camera = FakeVirtualCamera(
            width,
            height,
            fps,
            block=self.block and first,
            fail_at=self.fail_at if first else None,
        )
        self.cameras.append(camera)
        return camera

    @property
    def frames(self) -> list[np.ndarray]:
        """Every frame sent, over every camera opened."""
        return [frame for camera in self.cameras for frame in camera.frames]


# --- child processes ---
def start_live(env: dict[str, str], out: Path) -> tuple[subprocess.Popen, queue.Queue]:
    """`livestyle live --headless --source demo --record out`; stderr lines go to a queue."""
    command = [sys.executable, "-m", "livestyle", "live", "--headless", "--source", "demo"]
    command += ["--width", "96", "--height", "72", "--record", str(out)]
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in child.stderr:  # type: ignore[union-attr]
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return child, lines


def wait_for_line(lines: queue.Queue, text: str, timeout: float = 60.0) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if line is None:
            raise AssertionError(f"child ended before '{text}': {''.join(seen)}")
        seen.append(line)
        if text in line:
            return seen
