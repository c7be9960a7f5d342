"""The whole pipeline without a window, on a generated video file."""

import cv2
import pytest

from livestyle.live.pipeline import Pipeline
from livestyle.video.demo import DemoSource
from livestyle.video.sources import open_source

from .media import write_video


def test_counts_add_up_and_recording_matches_source(tmp_path, stylizer):
    clip = write_video(tmp_path / "clip.mp4", frames=24, fps=24.0, size=(64, 48))
    shown = []
    pipeline = Pipeline(open_source(str(clip)), stylizer, on_frame=shown.append)
    out = tmp_path / "out.mp4"
    pipeline.start_recording(out)
    pipeline.start()
    assert pipeline.wait(timeout=60)
    pipeline.stop()
    assert pipeline.capture.captured == 24
    assert pipeline.stats.stylized + pipeline.dropped == 24
    assert pipeline.stats.stylized > 0
    video = cv2.VideoCapture(str(out))
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(24.0)
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (64, 48)
    # Paced by stream time: frames dropped in between are filled with the previous picture,
    # so the file spans exactly the first to the last stylized frame at the source's rate.
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == shown[-1].index - shown[0].index + 1
    ok, frame = video.read()
    assert ok and frame.shape == (48, 64, 3)


def test_summary_line_reports_counts(tmp_path, stylizer):
    pipeline = Pipeline(DemoSource(64, 48, fps=60), stylizer, max_frames=30)
    pipeline.start()
    assert pipeline.wait(timeout=60)
    pipeline.stop()
    summary = pipeline.summary()
    assert "\n" not in summary
    assert summary.startswith(f"captured 30, stylized {pipeline.stats.stylized}, ")
    assert f"dropped {30 - pipeline.stats.stylized}" in summary
    assert "latency p50" in summary and "p95" in summary


def test_stop_ends_every_thread_quickly(tmp_path, stylizer):
    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer)
    pipeline.start_recording(tmp_path / "r.mp4")
    pipeline.start()
    import time

    time.sleep(0.5)
    began = time.monotonic()
    pipeline.stop()
    assert time.monotonic() - began < 2.0
    assert not any(t.is_alive() for t in pipeline.threads)
    assert cv2.VideoCapture(str(tmp_path / "r.mp4")).read()[0]


def test_summary_fps_ignores_the_idle_time_after_the_source_ended(stylizer):
    """A window left open after the clip ended once halved the reported rate (11.5 vs 24)."""
    import time

    import numpy as np

    from livestyle.live.inference import StylizedFrame

    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer)
    now = time.monotonic()
    pipeline.stats.started_at = now - 20.0  # the run began 20 s ago...
    image = np.zeros((48, 64, 3), np.uint8)
    for i in range(24):  # ...stylized 24 frames in its first second, then sat idle
        ready = pipeline.stats.started_at + (i + 1) / 24
        frame = StylizedFrame(image, image, i, i / 24, ready - 0.01, ready, "alpha")
        pipeline.stats.record(5.0, frame)
    assert ", 24.0 fps," in pipeline.summary()
