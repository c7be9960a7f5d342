"""Sources that fail: a camera that drops out and comes back (or never does), a video that
ends, a path that is no video. Every recording that should survive is opened again with
OpenCV and its frames counted against what the recorder says it wrote."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from livestyle.cli import main
from livestyle.core.errors import SourceError
from livestyle.live.pipeline import Pipeline
from livestyle.stylizer import Stylizer
from livestyle.video.sources import open_source

from .fakes import SIZE, DemoClip, FlakyCamera, SpyWriter, StuckCamera, stop_quickly, wait_for
from .media import video_frames, write_video


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


# --- closing the source ---
def test_stop_never_closes_a_source_in_the_middle_of_a_read(stylizer: Stylizer) -> None:
    # Closing a V4L2 or network camera while another thread reads it is undefined behaviour:
    # only the capture thread closes its source, once its read has returned.
    camera = StuckCamera()
    pipeline = Pipeline(camera, stylizer)
    pipeline.start()
    assert camera.in_read.wait(10)
    pipeline.stop(timeout=0.2)  # the read outlasts the join
    assert camera.closes == 0 and not camera.closed_during_read
    assert pipeline.capture.is_alive()  # still inside read()
    camera.let_go.set()
    pipeline.capture.join(5)
    assert not pipeline.capture.is_alive()
    assert camera.closes == 1 and not camera.closed_during_read


def test_a_pipeline_stopped_before_it_started_closes_its_source(stylizer: Stylizer) -> None:
    # No capture thread ever ran to close it (a --record target refused, say).
    source = DemoClip()
    pipeline = Pipeline(source, stylizer)
    pipeline.stop()
    pipeline.stop()  # safe to call more than once: still one close
    assert source.closes == 1


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


# --- no video at all ---
def test_open_source_rejects_directories(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        open_source(str(tmp_path))
