"""A pipeline thread that fails: a crash in capture, inference or the main thread, and
running out of GPU memory. The run ends in one line and the recording is finalized."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from livestyle.commands.live import run_headless
from livestyle.core.errors import OutOfMemory
from livestyle.live.pipeline import Pipeline
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

from .fakes import SIZE, DemoClip, stop_quickly, wait_for
from .media import video_frames


# --- crashes ---
def test_inference_crash_exits_1_with_one_line_and_finalized_file(
    stylizer: Stylizer,
    tmp_path: Path,
    state_folder: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch,
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
    details = f"(details: {state_folder / 'errors.log'})"  # the traceback is kept there
    assert err[-1] == f"livestyle: error: RuntimeError: boom in inference {details}"
    assert not any("Traceback" in line for line in err)
    assert not any(t.is_alive() for t in pipeline.threads)
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written >= 5


def test_capture_crash_exits_1_with_finalized_file(
    stylizer: Stylizer, tmp_path: Path, state_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    pipeline = Pipeline(DemoClip(fail_at=15), stylizer)
    out = tmp_path / "crash.mp4"
    assert run_headless(pipeline, out) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"livestyle: error: OSError: driver fell over (details: {state_folder / 'errors.log'})"
    )
    assert not any(t.is_alive() for t in pipeline.threads)
    assert len(video_frames(out)) == pipeline.recordings[0].frames_written >= 1


MAIN_THREAD_CRASH = """
import sys, time
from livestyle.video.demo import DemoSource
from livestyle.stylizer import Stylizer
from livestyle.model import VARIANTS
from livestyle.live.pipeline import Pipeline
from livestyle.discovery import load_styles, scan_styles
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
    stylizer.network_size = NetworkSize(infer_size)
    height, width = SIZE[1], SIZE[0]
    before = stylizer.network_shape(height, width)
    real, calls = stylizer.stylize, []

    def oom_once(frame: np.ndarray, index: int | None = None) -> np.ndarray:
        calls.append(1)
        if len(calls) == 3:
            raise OutOfMemory("CUDA out of memory. Tried to allocate 2 GiB")
        return real(frame, index)

    monkeypatch.setattr(stylizer, "stylize", oom_once)
    shown = []
    pipeline = Pipeline(DemoSource(*SIZE, fps=30), stylizer, on_frame=shown.append)
    caplog.set_level(logging.WARNING)
    pipeline.start()
    wait_for(lambda: len(calls) > 3 and len(shown) >= 10, what="frames after the OOM")
    stop_quickly(pipeline)
    after = stylizer.network_shape(height, width)
    assert after[0] < before[0] and after[1] < before[1]  # smaller, never bigger
    assert pipeline.error is None
    assert "out of GPU memory" in pipeline.status and "out of GPU memory" in caplog.text


def test_out_of_gpu_memory_at_every_size_ends_with_an_error(
    stylizer: Stylizer, monkeypatch
) -> None:
    def always_oom(frame: np.ndarray, index: int | None = None) -> np.ndarray:
        raise OutOfMemory("CUDA out of memory")

    monkeypatch.setattr(stylizer, "stylize", always_oom)
    pipeline = Pipeline(DemoSource(*SIZE, fps=60), stylizer)
    pipeline.start()
    wait_for(lambda: not pipeline.running, what="inference to give up")
    stop_quickly(pipeline)
    assert "out of GPU memory even at" in str(pipeline.error)
