"""Faults: a camera that drops out, sources that end, recordings that cannot be written,
signals and crashes in any thread, running out of GPU memory, bad style files, absurd options.

Every fault is made with fakes (sources, writers, stylizers) around the real pipeline, and
every recording that should survive is opened again with OpenCV and its frames counted
(against what the recorder says it wrote).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from livestyle.cli import main
from livestyle.commands.live import run_headless
from livestyle.engines.frames import infer_shape
from livestyle.errors import OutputError
from livestyle.live.pipeline import Pipeline
from livestyle.live.recorder import Recorder
from livestyle.model import VARIANTS
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.video.sources import FrameSource, open_source
from livestyle.video.writer import VideoWriter, open_video_writer
from livestyle.weights import load_styles, scan_styles

from .media import video_frames, write_styles, write_video

REPO = Path(__file__).resolve().parent.parent
SIZE = (64, 48)  # width, height: small enough for the 2-CPU test machine


# --- helpers ---
def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
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


class SpyWriter:
    """The real writer (H.264, or the mp4v fallback) that also keeps the frames and times it
    was given; after `good` frames its disk "fills up" (None: never)."""

    def __init__(self, good: int | None = None) -> None:
        self.good = good
        self.inner: VideoWriter | None = None
        self.frames: list[np.ndarray] = []
        self.times: list[float] = []

    def __call__(self, path: Path, fps: float, size: tuple[int, int]) -> SpyWriter:
        self.inner = open_video_writer(path, fps, size)
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


@pytest.fixture
def styles_env(styles_dir: Path, tmp_path: Path, monkeypatch) -> dict[str, str]:
    """Test styles only, no user styles: set here for main(), returned for child processes."""
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(styles_dir))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}


# --- a camera that disappears ---
def test_lost_camera_retries_with_backoff_and_recording_spans_the_gap(
    stylizer: Stylizer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    camera = FlakyCamera(fail_at=15, reopen_failures=3)
    spy = SpyWriter()
    pipeline = Pipeline(camera, stylizer, writer_factory=spy)
    delays = (0.05, 0.1, 0.2)
    pipeline.capture.retry_delays = delays
    out = tmp_path / "take.mp4"
    pipeline.start_recording(out)
    caplog.set_level(logging.INFO)
    pipeline.start()
    seen: set[str] = set()
    wait_for(lambda: seen.add(pipeline.status) or camera.back_at is not None, what="reopen")
    assert "camera lost, retrying" in seen  # what the window's overlay shows
    resumed = pipeline.capture.captured
    wait_for(lambda: pipeline.capture.captured >= resumed + 10, what="frames after reopen")
    assert pipeline.status == "" and pipeline.running
    stop_quickly(pipeline)

    assert "reads failing, retrying" in caplog.text and "back after 4 retries" in caplog.text
    # Back-off: attempts are spaced by the growing delays, never hammering the device.
    gaps = np.diff(camera.reopen_times)
    assert len(camera.reopen_times) == 4
    assert all(gap >= 0.95 * d for gap, d in zip(gaps, (0.1, 0.2, 0.2), strict=True))
    # The recording kept going and is whole: the file holds what the recorder wrote, every
    # frame at its stream time, so the last picture before the outage is shown across it.
    recorder = pipeline.recordings[0]
    assert recorder.error is None
    frames = video_frames(out)
    assert len(frames) == recorder.frames_written
    assert spy.times[0] == 0.0 and spy.times[-1] == recorder.last_pts - recorder.first_pts
    assert all(b > a for a, b in zip(spy.times, spy.times[1:], strict=False))
    outage = camera.back_at - camera.reopen_times[0] + delays[0]
    assert max(np.diff(spy.times)) >= 0.7 * outage
    assert camera.closed


def test_stop_while_the_camera_is_gone(stylizer: Stylizer, tmp_path: Path) -> None:
    camera = FlakyCamera(fail_at=10, reopen_failures=None)
    pipeline = Pipeline(camera, stylizer)
    pipeline.capture.retry_delays = (0.05, 1.0)  # stop must cut a long back-off short
    out = tmp_path / "take.mp4"
    pipeline.start_recording(out)
    pipeline.start()
    wait_for(lambda: len(camera.reopen_times) >= 2, what="retries")
    assert pipeline.status == "camera lost, retrying"
    stop_quickly(pipeline)
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written > 0


def test_camera_coming_back_keeps_a_recording_error_on_screen(
    stylizer: Stylizer, tmp_path: Path
) -> None:
    camera = FlakyCamera(fail_at=20, reopen_failures=1)
    pipeline = Pipeline(camera, stylizer, writer_factory=SpyWriter(good=3))
    pipeline.capture.retry_delays = (0.02,)
    pipeline.start_recording(tmp_path / "take.mp4")
    pipeline.start()
    wait_for(lambda: camera.back_at is not None, what="reopen")
    stop_quickly(pipeline)
    assert pipeline.status == pipeline.recording_error and "No space left" in pipeline.status


# --- sources that end ---
def test_video_ends_headless_exit_0_and_loop_repeats(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=15, fps=30.0, size=SIZE)
    out = tmp_path / "out.mp4"
    assert main(["live", "--headless", "--source", str(clip), "--record", str(out)]) == 0
    assert capsys.readouterr().out.startswith("captured 15, ")
    assert 1 <= len(video_frames(out)) <= 15
    argv = ["live", "--headless", "--source", str(clip), "--loop", "--max-frames", "35"]
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("captured 35, ")


def test_stylize_writes_every_frame_stylized_in_order(
    styles_env: dict[str, str], stylizer: Stylizer, tmp_path: Path, monkeypatch
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=10, fps=10.0, size=SIZE)
    source_frames = video_frames(clip)
    written: list[np.ndarray] = []

    class ListWriter:
        def __init__(self, path: Path, fps: float, size: tuple[int, int], **_kw) -> None:
            pass

        def write(self, frame: np.ndarray, time: float) -> int:
            written.append(frame)
            return 1

        def release(self) -> None:
            pass

    monkeypatch.setattr("livestyle.commands.stylize.open_video_writer", ListWriter)
    assert main(["stylize", str(clip), "--style", "beta", "-o", str(tmp_path / "o.mp4")]) == 0
    reference = stylizer  # the same style files, loaded apart from the command
    reference.select(reference.find("beta"))
    assert len(written) == len(source_frames) == 10
    for got, frame in zip(written, source_frames, strict=True):
        np.testing.assert_array_equal(got, reference.stylize(frame))


def test_stylize_truncated_video_keeps_what_is_readable(
    styles_env: dict[str, str], tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    clip = tmp_path / "cut.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, SIZE)
    rng = np.random.default_rng(1)
    for _ in range(20):
        writer.write(noise(rng))
    writer.release()
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # the index claims 20
    readable = len(video_frames(clip))
    out = tmp_path / "o.mp4"
    assert main(["stylize", str(clip), "--style", "alpha", "-o", str(out)]) == 0
    assert 0 < readable < 20 and len(video_frames(out)) == readable
    assert f"({readable} frames)" in capsys.readouterr().out


def test_interrupted_stylize_finalizes_the_output(
    styles_env: dict[str, str], tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=20, fps=10.0, size=SIZE)
    real = Stylizer.stylize
    calls = []

    def interrupt_at_8(self: Stylizer, frame: np.ndarray, index: int | None = None):
        calls.append(1)
        if len(calls) > 8:
            raise KeyboardInterrupt
        return real(self, frame, index)

    monkeypatch.setattr(Stylizer, "stylize", interrupt_at_8)
    out = tmp_path / "o.mp4"
    assert main(["stylize", str(clip), "--style", "alpha", "-o", str(out)]) == 130
    assert len(video_frames(out)) == 8


# --- the recording cannot be written ---
def test_disk_full_midway_keeps_the_written_part_and_the_live_view(
    stylizer: Stylizer, tmp_path: Path
) -> None:
    shown = []
    writer = SpyWriter(good=12)
    pipeline = Pipeline(
        DemoSource(*SIZE, fps=30), stylizer, writer_factory=writer, on_frame=shown.append
    )
    out = tmp_path / "full.mp4"
    pipeline.start_recording(out)
    pipeline.start()
    wait_for(lambda: pipeline.recording_error is not None, what="the writer to fail")
    assert "No space left on device" in pipeline.status and str(out) in pipeline.status
    assert not pipeline.recording
    before = len(shown)
    wait_for(lambda: len(shown) >= before + 10, what="frames after the failure")
    assert pipeline.running and pipeline.error is None
    stop_quickly(pipeline)
    assert len(writer.frames) == 12  # then the disk was "full"
    # Finalized: the index is written, the file holds what the recorder wrote.
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written >= 12


def test_low_disk_space_stops_the_real_writer(tmp_path: Path, monkeypatch) -> None:
    usage = namedtuple("usage", "total used free")
    calls = []

    def disk_usage(_folder: Path) -> tuple[int, int, int]:
        calls.append(1)
        return usage(1 << 30, 1 << 30, (1 << 30) if len(calls) == 1 else 1 << 20)

    monkeypatch.setattr("livestyle.live.recorder.shutil.disk_usage", disk_usage)
    errors: list[str] = []
    out = tmp_path / "low.mp4"
    recorder = Recorder(out, fps=30, on_error=errors.append)
    recorder.start()
    rng = np.random.default_rng(2)
    for i in range(60):
        recorder.submit(noise(rng), i / 30)
    recorder.finish()
    assert errors and "disk full" in errors[0]
    assert recorder.frames_written == 30 == len(video_frames(out))


def test_finished_recorder_keeps_no_frame_alive(tmp_path: Path) -> None:
    # A session keeps every Recorder it made; each must let go of its pictures.
    recorder = Recorder(tmp_path / "r.mp4", fps=10, writer_factory=SpyWriter())
    frame = noise(np.random.default_rng(3))
    alive = weakref.ref(frame)
    recorder.start()
    recorder.submit(frame, 0.0)
    recorder.finish()
    recorder.writer_factory.frames.clear()  # type: ignore[attr-defined]
    del frame
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize(
    "target, message",
    [
        ("/proc/take.mp4", "cannot write"),  # read-only even for root
        ("missing/take.mp4", "does not exist"),
        (".", "it is a folder"),
        ("take.webm", "extension"),
        ("take.txt", "extension"),
    ],
)
def test_unwritable_recording_refused_before_anything_starts(
    styles_env: dict[str, str], tmp_path: Path, monkeypatch, capsys, target: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError, match=message):
        Recorder(target, fps=30)
    opened = []
    monkeypatch.setattr("livestyle.commands.live.open_live_source", opened.append)
    assert main(["live", "--headless", "--source", "demo", "--record", target]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not opened


def test_failed_start_recording_leaves_live_view_running(
    stylizer: Stylizer, tmp_path: Path
) -> None:
    pipeline = Pipeline(DemoSource(*SIZE, fps=30), stylizer)
    pipeline.start()
    with pytest.raises(OutputError):
        pipeline.start_recording("/proc/take.mp4")
    count = pipeline.stats.stylized
    wait_for(lambda: pipeline.stats.stylized >= count + 5, what="frames")
    assert not pipeline.recording
    stop_quickly(pipeline)


def test_headless_recording_failure_exits_1(
    stylizer: Stylizer, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    pipeline = Pipeline(
        DemoSource(*SIZE, fps=60), stylizer, max_frames=60, writer_factory=SpyWriter(5)
    )
    out = tmp_path / "t.mp4"
    assert run_headless(pipeline, out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"livestyle: error: recording to {out} stopped")
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written >= 5


# --- signals and crashes ---
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


def test_sigterm_and_sigint_end_live_runs_with_their_codes_and_playable_files(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    # Both children at once: most of their time is importing torch.
    runs = {
        signum: (
            tmp_path / f"live-{signum}.mp4",
            *start_live(styles_env, tmp_path / f"live-{signum}.mp4"),
        )
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        for _out, _child, lines in runs.values():
            wait_for_line(lines, "recording to")
        time.sleep(0.5)  # record a little more
        for signum, (out, child, lines) in runs.items():
            sent = time.monotonic()
            child.send_signal(signum)
            child.wait(timeout=20)
            stopped_in = time.monotonic() - sent
            stdout = child.stdout.read()  # type: ignore[union-attr]
            rest = []
            while (line := lines.get(timeout=5)) is not None:
                rest.append(line)
            assert child.returncode == 128 + signum, "".join(rest)
            # Threads stop within 2 s (checked in-process above); the rest is the exit of a
            # child on a loaded CPU. A stuck thread would show as 10 s (the recorder's join).
            assert stopped_in < 8.0, stopped_in
            assert stdout.startswith("captured ") and "recorded" in stdout, stdout
            assert "Traceback" not in "".join(rest)
            assert len(video_frames(out)) >= 5
    finally:
        for _out, child, _lines in runs.values():
            child.kill()


def test_sighup_in_process_also_finalizes(stylizer: Stylizer, tmp_path: Path) -> None:
    # max_frames: should the signal never come, the run ends (exit 0, a failure) in 20 s.
    pipeline = Pipeline(DemoSource(*SIZE, fps=30), stylizer, max_frames=600)
    out = tmp_path / "hup.mp4"
    timer = threading.Thread(
        target=lambda: (
            wait_for(lambda: bool(pipeline.recordings) and pipeline.recordings[0].frames_written),
            os.kill(os.getpid(), signal.SIGHUP),
        ),
        daemon=True,
    )
    timer.start()
    assert run_headless(pipeline, out) == 128 + signal.SIGHUP
    assert video_frames(out) and not any(t.is_alive() for t in pipeline.threads)


def test_inference_crash_exits_1_with_one_line_and_finalized_file(
    stylizer: Stylizer, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    real, calls = stylizer.stylize, []

    def crash_at_10(frame: np.ndarray, index: int | None = None) -> np.ndarray:
        calls.append(1)
        if len(calls) == 10:
            raise RuntimeError("boom in inference")
        return real(frame, index)

    monkeypatch.setattr(stylizer, "stylize", crash_at_10)
    pipeline = Pipeline(DemoSource(*SIZE, fps=30), stylizer)
    out = tmp_path / "crash.mp4"
    assert run_headless(pipeline, out) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "livestyle: error: RuntimeError: boom in inference"
    assert not any("Traceback" in line for line in err)
    assert not any(t.is_alive() for t in pipeline.threads)
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written >= 5


def test_capture_crash_exits_1_with_finalized_file(
    stylizer: Stylizer, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    class BrokenDriver(DemoSource):
        def read(self) -> np.ndarray | None:
            if self._index == 15:
                raise OSError("driver fell over")
            return super().read()

    source: FrameSource = BrokenDriver(*SIZE, fps=30)
    pipeline = Pipeline(source, stylizer)
    out = tmp_path / "crash.mp4"
    assert run_headless(pipeline, out) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "livestyle: error: OSError: driver fell over"
    )
    assert not any(t.is_alive() for t in pipeline.threads)
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written >= 1


MAIN_THREAD_CRASH = """
import sys, time
from livestyle.video.demo import DemoSource
from livestyle.stylizer import Stylizer
from livestyle.model import VARIANTS
from livestyle.live.pipeline import Pipeline
from livestyle.weights import load_styles, scan_styles
from pathlib import Path

styles = load_styles(scan_styles([Path(sys.argv[1])], prefer_variant="lite"))
pipeline = Pipeline(DemoSource(64, 48, fps=30), Stylizer(styles, "cpu", "fp32"))
pipeline.start_recording(sys.argv[2])
pipeline.start()
while pipeline.recordings[0].frames_written < 10:
    time.sleep(0.02)
raise RuntimeError("crash in the main thread")  # nobody calls pipeline.stop()
"""


def test_main_thread_crash_still_finalizes_the_recording(
    styles_env: dict[str, str], styles_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "atexit.mp4"
    command = [sys.executable, "-c", MAIN_THREAD_CRASH, str(styles_dir), str(out)]
    child = subprocess.run(command, env=styles_env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 1 and "crash in the main thread" in child.stderr
    assert len(video_frames(out)) >= 10  # the atexit safety net wrote the MP4 index


# --- out of GPU memory ---
@pytest.mark.parametrize("infer_size", [None, 32])
def test_out_of_gpu_memory_lowers_inference_size_and_goes_on(
    stylizer: Stylizer, caplog: pytest.LogCaptureFixture, monkeypatch, infer_size: int | None
) -> None:
    stylizer.infer_size = infer_size
    height, width = SIZE[1], SIZE[0]
    before = infer_shape(height, width, stylizer.infer_size, stylizer.infer_scale)
    real, calls = stylizer.stylize, []

    def oom_once(frame: np.ndarray, index: int | None = None) -> np.ndarray:
        calls.append(1)
        if len(calls) == 3:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return real(frame, index)

    monkeypatch.setattr(stylizer, "stylize", oom_once)
    shown = []
    pipeline = Pipeline(DemoSource(*SIZE, fps=30), stylizer, on_frame=shown.append)
    caplog.set_level(logging.WARNING)
    pipeline.start()
    wait_for(lambda: len(calls) > 3 and len(shown) >= 10, what="frames after the OOM")
    stop_quickly(pipeline)
    after = infer_shape(height, width, stylizer.infer_size, stylizer.infer_scale)
    assert after[0] < before[0] and after[1] < before[1]  # smaller, never bigger
    assert pipeline.error is None
    assert "out of GPU memory" in pipeline.status and "out of GPU memory" in caplog.text


def test_out_of_gpu_memory_at_every_size_ends_with_an_error(
    stylizer: Stylizer, monkeypatch
) -> None:
    def always_oom(frame: np.ndarray, index: int | None = None) -> np.ndarray:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(stylizer, "stylize", always_oom)
    pipeline = Pipeline(DemoSource(*SIZE, fps=60), stylizer)
    pipeline.start()
    wait_for(lambda: not pipeline.running, what="inference to give up")
    stop_quickly(pipeline)
    assert "out of GPU memory even at" in str(pipeline.error)


# --- bad style files ---
EVIL_PICKLE = """
import pickle, sys

class Evil:
    def __reduce__(self):  # unpickling this calls open(marker, "w")
        return (open, ({marker!r}, "w"))

with open(sys.argv[1], "wb") as f:
    pickle.dump({{"weight": Evil()}}, f)
"""


def rewrite_style(path: Path, source: Path, edit_config: Callable[[dict], None]) -> Path:
    """Save source's tensors to path with its metadata's network config edited."""
    with safe_open(str(source), framework="pt") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    edit_config(config)
    save_file(load_file(str(source)), str(path), metadata={**meta, "config": json.dumps(config)})
    return path


def test_bad_style_files_are_skipped_with_a_warning_and_never_unpickled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_styles(tmp_path / "styles", names=("good", "cut"))
    marker = tmp_path / "pwned"
    evil = folder / "evil.safetensors"
    script = EVIL_PICKLE.format(marker=str(marker))
    subprocess.run([sys.executable, "-c", script, str(evil)], check=True)
    (folder / "evil.pt").write_bytes(evil.read_bytes())  # not a style suffix: never looked at
    cut = folder / "cut.lite.safetensors"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    (folder / "text.safetensors").write_text("hello")
    # Standard-network tensors in a file whose metadata says lite.
    standard = write_styles(tmp_path / "std", names=("wrong",), variant="standard")
    rewrite_style(
        folder / "wrong.lite.safetensors",
        standard / "wrong.standard.safetensors",
        lambda config: config.update(VARIANTS["lite"].to_dict()),
    )
    caplog.set_level(logging.WARNING)
    loaded = load_styles(scan_styles([folder], prefer_variant="lite"))
    assert [info.name for _, info in loaded] == ["good"]
    assert not marker.exists()
    warnings = [r.getMessage() for r in caplog.records]
    assert all("\n" not in w for w in warnings)
    for name in ("evil", "cut.lite", "text", "wrong.lite"):
        assert sum(f"{name}.safetensors" in w for w in warnings) == 1, (name, warnings)
    assert not any("evil.pt" in w for w in warnings)
    # The payload is real: unpickling it the unsafe way does create the marker.
    with open(evil, "rb") as f:
        pickle.load(f)
    assert marker.exists()


def test_unknown_config_keys_skip_the_style_and_say_why(
    styles_env: dict[str, str], tmp_path: Path, caplog, capsys, monkeypatch
) -> None:
    folder = write_styles(tmp_path / "odd", names=("odd",))
    source = folder / "odd.lite.safetensors"
    path = rewrite_style(
        folder / "odd2.lite.safetensors", source, lambda config: config.update(dropout=0.5)
    )
    source.unlink()
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(folder))
    monkeypatch.setattr("livestyle.weights.PACKAGE_WEIGHTS_DIR", tmp_path / "none")
    assert main(["live", "--headless", "--source", "demo", "--max-frames", "1"]) == 2
    assert "unknown network config keys: dropout" in caplog.text and str(path) in caplog.text
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no styles installed" in err[0]


# --- absurd options ---
@pytest.mark.parametrize(
    "option",
    [
        ["--width", "0"],
        ["--height", "-480"],
        ["--width", "200000"],
        ["--fps", "0"],
        ["--fps", "-30"],
        ["--fps", "inf"],
        ["--fps", "nan"],
        ["--fps", "1e6"],
        ["--max-frames", "0"],
        ["--max-frames", "-1"],
        ["--strength", "1.5"],
        ["--strength", "-0.1"],
        ["--infer-scale", "0"],
        ["--infer-scale", "2"],
        ["--infer-size", "-1"],
        ["--width", "abc"],
    ],
)
def test_absurd_options_exit_2_before_anything_starts(
    option: list[str], capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    started = []
    monkeypatch.setattr("livestyle.commands.live.load_stylizer", started.append)
    with pytest.raises(SystemExit) as exit_info:
        main(["live", "--headless", "--source", "demo", *option])
    assert exit_info.value.code == 2 and not started
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option[0] in err[0]


def test_open_source_rejects_directories(tmp_path: Path) -> None:
    from livestyle.errors import SourceError

    with pytest.raises(SourceError):
        open_source(str(tmp_path))
