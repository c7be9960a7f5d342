"""Recordings that cannot be written: a disk that fills up, a target that is refused, a
recording that fails while the live view goes on. What was written must stay playable."""

from __future__ import annotations

import gc
import weakref
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from livestyle.cli import main
from livestyle.commands.live import run_headless
from livestyle.core.errors import OutputError
from livestyle.live.pipeline import Pipeline
from livestyle.live.recorder import Recorder
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

from .fakes import (
    SIZE,
    LateFailingWriter,
    ListWriter,
    SpyWriter,
    noise,
    solid_frame,
    stop_quickly,
    wait_for,
)
from .media import video_frames


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

    monkeypatch.setattr("livestyle.video.files.shutil.disk_usage", disk_usage)
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


def test_a_late_failure_of_a_stopped_recording_leaves_the_next_one_running(
    stylizer: Stylizer, tmp_path: Path
) -> None:
    late = LateFailingWriter()
    writers = {"a.mp4": late, "b.mp4": ListWriter()}
    pipeline = Pipeline(
        DemoSource(*SIZE, fps=30),
        stylizer,
        writer_factory=lambda path, fps, size: writers[path.name.replace(".partial", "")](
            path, fps, size
        ),
    )
    pipeline.start_recording(tmp_path / "a.mp4")
    first = pipeline.recorder
    assert first is not None and first.submit(solid_frame(1, SIZE), 0.0)
    assert late.writing.wait(10)
    pipeline.stop_recording()  # the user stops A while its writer is still busy...
    pipeline.start_recording(tmp_path / "b.mp4")  # ...and starts B
    second = pipeline.recorder
    late.let_go.set()  # A's disk-full error arrives now
    assert first.finalized.wait(10)
    assert first.error is not None and "No space left" in first.error
    assert pipeline.recorder is second and pipeline.recording  # B goes on
    assert pipeline.status == first.error  # and A's failure is still said
    pipeline.stop()
    assert second is not None and second.error is None
