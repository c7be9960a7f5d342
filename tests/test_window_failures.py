"""Every recording and snapshot failure shows in the window, with its reason, long enough to
be read; a recording cut short says what its file holds."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from PyQt6.QtCore import QEventLoop, Qt, QTimer

from livestyle.live.pipeline import Pipeline
from livestyle.live.session import TOAST_SECONDS
from livestyle.stylizer import Stylizer
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource

from .fakes import SpyWriter
from .media import video_frames
from .test_window import HEIGHT, WAIT_MS, WIDTH, open_window, run_window_until_signal


def window_over(qtbot, stylizer: Stylizer, out_dir: Path, **pipeline_options) -> LiveWindow:
    pipeline = Pipeline(
        DemoSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=out_dir, **pipeline_options
    )
    return open_window(qtbot, pipeline, out_dir)


def test_a_recording_that_cannot_start_says_why_and_stays_readable(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    window = window_over(qtbot, stylizer, blocker / "captures")  # no folder can be made there
    try:
        qtbot.keyClick(window, Qt.Key.Key_R)
        assert "cannot record" in window.overlay_text() and "captures" in window.overlay_text()
        qtbot.wait(int((TOAST_SECONDS + 0.5) * 1000))  # a white toast would be gone by now
        assert "cannot record" in window.overlay_text()
        assert not window.session.pipeline.recording
    finally:
        window.shutdown()


def test_a_snapshot_that_cannot_be_saved_says_why(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    window = window_over(qtbot, stylizer, blocker)  # a file where the folder should be
    try:
        qtbot.keyClick(window, Qt.Key.Key_S)
        shown = window.overlay_text()
        assert "could not save snapshot: cannot write" in shown and "Not a directory" in shown
    finally:
        window.shutdown()


def test_a_recording_cut_short_says_what_its_file_holds(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    window = window_over(qtbot, stylizer, tmp_path, writer_factory=SpyWriter(good=6))
    try:
        qtbot.keyClick(window, Qt.Key.Key_R)
        qtbot.waitUntil(lambda: "stopped" in window.overlay_text(), timeout=WAIT_MS)
        (recording,) = tmp_path.glob("livestyle-*.mp4")
        shown = window.overlay_text()
        assert "No space left on device" in shown
        assert f"{recording} holds {len(video_frames(recording))} frames" in shown
        frames_before = window.frames_shown
        qtbot.waitUntil(lambda: window.frames_shown > frames_before + 5, timeout=WAIT_MS)
    finally:
        window.shutdown()


def test_a_finished_recording_says_where_it_is_and_how_many_frames(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    window = window_over(qtbot, stylizer, tmp_path)
    try:
        qtbot.keyClick(window, Qt.Key.Key_R)
        qtbot.waitUntil(
            lambda: window.session.pipeline.recorder.frames_written >= 5, timeout=WAIT_MS
        )
        qtbot.keyClick(window, Qt.Key.Key_R)
        qtbot.waitUntil(lambda: "saved recording" in window.overlay_text(), timeout=WAIT_MS)
        (recording,) = tmp_path.glob("livestyle-*.mp4")
        frames = len(video_frames(recording))
        assert f"saved recording {recording} ({frames} frames)" in window.overlay_text()
        assert not list(tmp_path.glob("*.partial*"))
    finally:
        window.shutdown()


# A window run to its end must leave no quit behind: one left queued ended the next event
# loop at once, so every later window test waited for frames in vain. The first test runs
# the window to its end; the second, run after it (pytest keeps a file's order), needs a
# working event loop.
def test_a_window_run_to_its_end_1_close_on_a_signal(
    qapp, stylizer: Stylizer, tmp_path: Path
) -> None:
    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=tmp_path)
    record = tmp_path / "take.mp4"
    assert run_window_until_signal(pipeline, record, signal.SIGTERM) == 128 + signal.SIGTERM


def test_a_window_run_to_its_end_2_leaves_the_next_event_loop_running(qapp) -> None:
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)
    started = time.monotonic()
    assert loop.exec() == 0  # ended by its own timer, not by a stale quit (-1, at once)
    assert time.monotonic() - started >= 0.25
