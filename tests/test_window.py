"""The live window, offscreen: keys, views, snapshots, recording, shutdown, the frame bridge.

The key table, the overlay's text and the frame helpers are tested on their own in
test_keys.py, test_overlay.py and test_frames.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QFontMetrics, QImage
from PyQt6.QtWidgets import QApplication

from livestyle.addstyle import AdderOptions
from livestyle.discovery import load_styles, scan_styles
from livestyle.live import session as session_module
from livestyle.live.inference import StylizedFrame
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import FAILURE_TOAST_SECONDS, LiveSession
from livestyle.stylizer import Stylizer
from livestyle.ui.bridge import FrameBridge
from livestyle.ui.frames import ViewMode, fit_rect
from livestyle.ui.overlay import FADE_SECONDS, MARGIN, RED, box_padding, text_font
from livestyle.ui.window import LiveWindow, run_window
from livestyle.video.demo import DemoSource
from livestyle.video.sources import open_source
from livestyle.video.writer import open_video_writer

from .media import video_frames, wait_until_recording, write_network, write_styles

WIDTH, HEIGHT = 64, 48
BOX = (320, 240)
WAIT_MS = 30_000  # a deadline for a condition: generous, a busy CPU is slow
REPO = Path(__file__).resolve().parent.parent


def demo_pipeline(stylizer: Stylizer, out_dir: Path) -> Pipeline:
    return Pipeline(DemoSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=out_dir)


def open_window(qtbot, pipeline: Pipeline, out_dir: Path) -> LiveWindow:
    """A started, shown window that has drawn at least one frame."""
    window = LiveWindow(LiveSession(pipeline, out_dir=out_dir), size=BOX)
    qtbot.addWidget(window)
    window.start()
    window.show()
    qtbot.waitUntil(lambda: window.frames_shown > 0, timeout=WAIT_MS)
    return window


@pytest.fixture
def window(qtbot, stylizer: Stylizer, tmp_path: Path) -> Iterator[LiveWindow]:
    win = open_window(qtbot, demo_pipeline(stylizer, tmp_path), tmp_path)
    yield win
    win.shutdown()  # threads end even when a test failed halfway


def count_stops(pipeline: Pipeline) -> list[int]:
    """Wrap pipeline.stop to count its calls."""
    calls: list[int] = []
    real_stop = pipeline.stop

    def stop(*args, **kwargs) -> None:
        calls.append(1)
        real_stop(*args, **kwargs)

    pipeline.stop = stop  # type: ignore[method-assign]
    return calls


def to_bgr(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_BGR888)
    width, height = image.width(), image.height()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(height, image.bytesPerLine())
    return rows[:, : width * 3].reshape(height, width, 3).copy()


def frame_area(window: LiveWindow, shot: np.ndarray) -> np.ndarray:
    """The letterboxed picture in a screenshot, scaled back to the frame size."""
    target = fit_rect(WIDTH, HEIGHT, window.rect()).toAlignedRect()
    crop = shot[target.top() + 2 : target.bottom() - 1, target.left() + 2 : target.right() - 1]
    return cv2.resize(crop, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def bar_pixels(window: LiveWindow, shot: np.ndarray) -> np.ndarray:
    """Screenshot pixels outside the picture (a pixel's margin left for smoothing)."""
    target = fit_rect(WIDTH, HEIGHT, window.rect()).toAlignedRect()
    mask = np.ones(shot.shape[:2], bool)
    top, left = max(0, target.top() - 1), max(0, target.left() - 1)
    mask[top : target.bottom() + 2, left : target.right() + 2] = False
    return shot[mask]


def mean_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def assert_playable(path: Path) -> None:
    frames = video_frames(path)
    assert frames, f"{path} has no frames"
    assert frames[0].shape == (HEIGHT, WIDTH, 3)


def fake_frame(index: int) -> StylizedFrame:
    image = np.full((HEIGHT, WIDTH, 3), index % 256, np.uint8)
    now = time.monotonic()
    return StylizedFrame(image, image, index, index / 30, now, now, "alpha")


def test_cv2_and_pyqt6_load_together(qtbot, window: LiveWindow) -> None:
    """An opencv build with its own Qt plugins breaks PyQt6; check a fresh process too."""
    code = (
        "import cv2\n"
        "from PyQt6.QtWidgets import QApplication, QWidget\n"
        "app = QApplication([])\n"
        "w = QWidget()\n"
        "w.show()\n"
        "app.processEvents()\n"
        "print('ok', cv2.__version__)\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")
    assert window.isVisible()
    assert window.windowTitle() == "livestyle"
    qtbot.waitExposed(window)


def test_style_keys_change_style_and_overlay(qtbot, window: LiveWindow) -> None:
    stylizer = window.session.stylizer
    assert stylizer.index == 0 and "[1] alpha" in window.overlay_text()
    steps = [
        (Qt.Key.Key_Right, 1, "[2] beta"),
        (Qt.Key.Key_Left, 0, "[1] alpha"),
        (Qt.Key.Key_Left, 2, "[3] gamma"),  # wraps around
        (Qt.Key.Key_N, 0, "[1] alpha"),
        (Qt.Key.Key_N, 1, "[2] beta"),
        (Qt.Key.Key_P, 0, "[1] alpha"),
        (Qt.Key.Key_3, 2, "[3] gamma"),
        (Qt.Key.Key_9, 2, "[3] gamma"),  # no ninth style: ignored
        (Qt.Key.Key_2, 1, "[2] beta"),
    ]
    for key, index, text in steps:
        qtbot.keyClick(window, key)
        assert stylizer.index == index, key
        assert text in window.overlay_text(), key
    qtbot.waitUntil(lambda: window.shown.frame.style == "beta", timeout=WAIT_MS)


def strength_lines(window: LiveWindow) -> list[str]:
    return [line for line in window.overlay_text().splitlines() if "strength" in line]


def test_strength_keys(qtbot, window: LiveWindow) -> None:
    assert "strength" not in window.overlay_text()
    qtbot.keyClick(window, Qt.Key.Key_Minus)
    qtbot.keyClick(window, Qt.Key.Key_Minus)
    assert window.session.stylizer.strength == pytest.approx(0.8)
    assert strength_lines(window) == ["strength 80%"]  # one line, updated in place
    qtbot.keyClick(window, Qt.Key.Key_Plus)
    assert window.session.stylizer.strength == pytest.approx(0.9)
    assert strength_lines(window) == ["strength 90%"]
    qtbot.keyClick(window, Qt.Key.Key_Equal)
    qtbot.keyClick(window, Qt.Key.Key_Equal)  # capped at 100%
    assert window.session.stylizer.strength == pytest.approx(1.0)
    assert strength_lines(window) == ["strength 100%"]  # says where it landed, for a while
    window.session._strength_changed_until = 0.0  # that while has passed
    assert strength_lines(window) == []
    qtbot.keyClick(window, Qt.Key.Key_Tab)  # overlay hidden: the keys still answer, once
    qtbot.keyClick(window, Qt.Key.Key_Minus)
    qtbot.keyClick(window, Qt.Key.Key_Minus)
    assert strength_lines(window) == ["strength 80%"]


def test_overlay_fps_is_zero_while_paused(qtbot, window: LiveWindow) -> None:
    qtbot.waitUntil(lambda: window.session.pipeline.stats.fps > 0, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.session.pipeline.stats.fps > 0  # the rate of the last frames stays as it was...
    speed = [s for s in window.overlay_text().splitlines() if re.match(r"\d+\.\d fps", s)]
    assert len(speed) == 1 and speed[0].startswith("0.0 fps")  # ...but nothing is stylized


def test_snapshot_error_goes_to_stderr_too(qtbot, window: LiveWindow, tmp_path, caplog) -> None:
    window.session.out_dir = tmp_path / "gone"
    qtbot.keyClick(window, Qt.Key.Key_S)
    assert "could not save snapshot" in window.overlay_text()
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("could not save snapshot" in m and "gone" in m for m in errors)


def test_tab_help_and_fullscreen_keys(qtbot, window: LiveWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Tab)
    assert not window.overlay_visible and "alpha" not in window.overlay_text()
    qtbot.keyClick(window, Qt.Key.Key_Tab)
    assert window.overlay_visible and "alpha" in window.overlay_text()
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.help_visible
    window.grab()  # the help draws without error
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert not window.help_visible
    qtbot.keyClick(window, Qt.Key.Key_F)
    qtbot.waitUntil(window.isFullScreen, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=WAIT_MS)


def test_record_key_starts_and_stops_recording(qtbot, window: LiveWindow) -> None:
    pipeline = window.session.pipeline
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert pipeline.recording
    assert "● REC 00:0" in window.overlay_text()
    recorder = pipeline.recorder
    qtbot.waitUntil(lambda: recorder.frames_received >= 5, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert not pipeline.recording
    assert "REC" not in window.overlay_text()
    qtbot.waitUntil(
        lambda: f"saved recording {recorder.path}" in window.overlay_text(), timeout=WAIT_MS
    )
    assert not recorder.is_alive() and "saving" not in window.overlay_text()
    assert recorder.path.parent == window.session.out_dir
    assert_playable(recorder.path)


class SlowSaveWriter:
    """The real writer, whose finalization waits until the test lets it go."""

    def __init__(self) -> None:
        self.releasing = threading.Event()
        self.let_go = threading.Event()

    def __call__(self, path: Path, fps: float, size: tuple[int, int]) -> SlowSaveWriter:
        self.inner = open_video_writer(path, fps, size)
        return self

    def write(self, frame: np.ndarray, time: float) -> int:
        return self.inner.write(frame, time)

    def release(self) -> None:
        self.releasing.set()
        self.let_go.wait(30)
        self.inner.release()


def test_stopping_a_recording_does_not_wait_for_the_file(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    writer = SlowSaveWriter()
    pipeline = Pipeline(
        DemoSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=tmp_path, writer_factory=writer
    )
    window = open_window(qtbot, pipeline, tmp_path)
    # Should R wait for the file, it would come back only after this lets the writer go
    # (well before the recorder's own 10 s limit on waiting).
    let_go_later = threading.Timer(5, writer.let_go.set)
    try:
        qtbot.keyClick(window, Qt.Key.Key_R)
        recorder = pipeline.recorder
        qtbot.waitUntil(lambda: recorder.frames_written >= 3, timeout=WAIT_MS)
        let_go_later.start()
        qtbot.keyClick(window, Qt.Key.Key_R)
        assert not writer.let_go.is_set()  # R came back while the file could not be saved
        assert writer.releasing.wait(10)
        name = recorder.path.name
        assert f"saving {name}..." in window.overlay_text()
        # The event loop runs on: frames keep coming to the screen while the file is saved.
        shown = window.frames_shown
        qtbot.waitUntil(lambda: window.frames_shown >= shown + 3, timeout=WAIT_MS)
        assert f"saving {name}..." in window.overlay_text() and recorder.is_alive()
        writer.let_go.set()
        qtbot.waitUntil(
            lambda: f"saved recording {recorder.path}" in window.overlay_text(), timeout=WAIT_MS
        )
        assert "saving" not in window.overlay_text()
        assert_playable(recorder.path)
    finally:
        writer.let_go.set()
        let_go_later.cancel()
        window.shutdown()


def test_view_key_changes_what_is_drawn(qtbot, window: LiveWindow) -> None:
    window.resize(400, 240)  # wider than the frame: pillarbox bars
    qtbot.waitUntil(lambda: window.width() == 400, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Tab)  # no overlay over the pixels we compare
    stylized_shot = to_bgr(window.grab().toImage())
    stylized_frame = window.shown
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert window.session.view is ViewMode.ORIGINAL
    assert window.overlay_text() == ""
    original_shot = to_bgr(window.grab().toImage())
    original_frame = window.shown
    assert mean_diff(stylized_shot, original_shot) > 10
    assert mean_diff(frame_area(window, original_shot), original_frame.original) < 12
    assert mean_diff(frame_area(window, stylized_shot), stylized_frame.stylized) < 12
    bars = bar_pixels(window, original_shot)
    assert bars.size and bars.max() == 0  # letterbox or pillarbox bars are black
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert window.session.view is ViewMode.SPLIT
    split = frame_area(window, to_bgr(window.grab().toImage()))
    shown = window.shown
    quarter = WIDTH // 4
    left, right = slice(2, quarter * 2 - 3), slice(quarter * 2 + 3, WIDTH - 2)
    assert mean_diff(split[:, left], shown.original[:, left]) < 12
    assert mean_diff(split[:, right], shown.stylized[:, right]) < 12
    qtbot.keyClick(window, Qt.Key.Key_O)
    assert window.session.view is ViewMode.STYLIZED


@pytest.mark.parametrize("how", ["q", "escape", "close"])
def test_quitting_stops_threads_and_finalizes_recording(
    qtbot, stylizer: Stylizer, tmp_path: Path, how: str
) -> None:
    pipeline = demo_pipeline(stylizer, tmp_path)
    stops = count_stops(pipeline)
    window = open_window(qtbot, pipeline, tmp_path)
    path = window.session.start_recording()
    qtbot.waitUntil(lambda: pipeline.recorder.frames_received >= 3, timeout=WAIT_MS)
    closed: list[int] = []
    window.closed.connect(lambda: closed.append(1))
    if how == "close":
        window.close()
    else:
        qtbot.keyClick(window, Qt.Key.Key_Q if how == "q" else Qt.Key.Key_Escape)
    assert not window.isVisible() and closed == [1]
    assert not any(t.is_alive() for t in pipeline.threads)
    assert stops == [1]
    assert_playable(path)
    window.close()
    window.shutdown()
    assert stops == [1]
    assert window.exit_code == 0


def test_space_pauses_and_s_saves_snapshots(
    qtbot, window: LiveWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    inference = window.session.pipeline.inference
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.session.pipeline.paused and "PAUSED" in window.overlay_text()
    # Once inference skips a frame, a frame it was stylizing when paused has been handed over.
    qtbot.waitUntil(lambda: inference.paused_dropped > 0, timeout=WAIT_MS)
    QApplication.processEvents()
    still, skipped = window.frames_shown, inference.paused_dropped
    qtbot.waitUntil(lambda: inference.paused_dropped > skipped + 3, timeout=WAIT_MS)
    QApplication.processEvents()
    assert window.frames_shown == still and window.shown is not None

    assert re.fullmatch(r"livestyle-\d{8}-\d{6}", session_module.snapshot_stem())
    monkeypatch.setattr(session_module, "snapshot_stem", lambda: "livestyle-20240101-120000")
    qtbot.keyClick(window, Qt.Key.Key_S)
    first = window.session.out_dir / "livestyle-20240101-120000.png"
    assert f"saved snapshot {first}" in window.overlay_text()
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.keyClick(window, Qt.Key.Key_O)
    qtbot.keyClick(window, Qt.Key.Key_S)  # the same second: a -1 suffix, nothing overwritten
    second = window.session.out_dir / "livestyle-20240101-120000-1.png"
    assert f"saved snapshot {second}" in window.overlay_text()
    stylized = cv2.imread(str(first))
    assert stylized is not None and stylized.shape == (HEIGHT, WIDTH, 3)
    assert np.array_equal(stylized, window.shown.stylized)
    split = cv2.imread(str(second))
    assert split is not None
    half = WIDTH // 2  # left: original, right: stylized, a divider between
    assert np.array_equal(split[:, :half], window.shown.original[:, :half])
    assert np.array_equal(split[:, half + 1 :], window.shown.stylized[:, half + 1 :])
    assert split[:, half].min() == 255

    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.session.pipeline.paused
    qtbot.waitUntil(lambda: window.frames_shown > still, timeout=WAIT_MS)


def test_bridge_keeps_one_frame_in_flight(qtbot, stylizer: Stylizer, tmp_path: Path) -> None:
    window = LiveWindow(LiveSession(demo_pipeline(stylizer, tmp_path), out_dir=tmp_path), size=BOX)
    qtbot.addWidget(window)
    signals: list[int] = []
    window.bridge.arrived.connect(
        lambda frame: signals.append(frame.index), Qt.ConnectionType.QueuedConnection
    )
    count = 50
    producer = threading.Thread(
        target=lambda: [window.bridge.submit(fake_frame(i)) for i in range(count)]
    )
    producer.start()
    producer.join()
    assert window.frames_shown == 0 and window.bridge.pending
    assert window.bridge.submitted == count and window.bridge.dropped == count - 1
    QApplication.processEvents()
    QApplication.processEvents()
    assert signals == [0]  # one queued signal for all fifty frames
    assert window.frames_shown == 1 and window.shown.frame.index == count - 1
    assert not window.bridge.pending
    window.bridge.submit(fake_frame(100))  # the slot emptied the holder: signals again
    qtbot.waitUntil(lambda: window.frames_shown == 2, timeout=WAIT_MS)
    assert window.shown.frame.index == 100 and signals == [0, 100]


def test_bridge_after_close_ignores_frames() -> None:
    bridge = FrameBridge()
    bridge.close()
    bridge.submit(fake_frame(1))
    assert not bridge.pending and bridge.submitted == 0


def test_source_end_keeps_last_frame(qtbot, stylizer: Stylizer, video_file: Path, tmp_path):
    pipeline = Pipeline(open_source(str(video_file)), stylizer, out_dir=tmp_path)
    window = open_window(qtbot, pipeline, tmp_path)
    qtbot.waitUntil(lambda: "source ended" in window.overlay_text(), timeout=WAIT_MS)
    assert window.isVisible() and window.shown is not None
    assert window.session.ended and window.exit_code == 0
    window.grab()


class FailingSource(DemoSource):
    def read(self) -> np.ndarray | None:
        if self._index >= 3:
            raise RuntimeError("sensor on fire")
        return super().read()


def test_pipeline_error_is_shown_and_exit_code_1(qtbot, stylizer: Stylizer, tmp_path: Path):
    pipeline = Pipeline(FailingSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=tmp_path)
    window = open_window(qtbot, pipeline, tmp_path)
    qtbot.waitUntil(
        lambda: "error: RuntimeError: sensor on fire" in window.overlay_text(), timeout=WAIT_MS
    )
    # The traceback went to the state folder (tests point it at tmp), and the overlay says where.
    log_file = pipeline.error_log
    assert log_file is not None and "sensor on fire" in log_file.read_text()
    assert f"(details: {log_file})" in window.overlay_text()
    assert window.exit_code == 1
    window.close()
    assert window.exit_code == 1


class LostCamera(DemoSource):
    """A live source that stops delivering after a few frames and never comes back."""

    def __init__(self) -> None:
        super().__init__(WIDTH, HEIGHT, fps=30)
        self.live = True

    def read(self) -> np.ndarray | None:
        return super().read() if self._index < 3 else None

    def reopen(self) -> bool:
        return False


def test_camera_lost_status_shows_in_overlay(qtbot, stylizer: Stylizer, tmp_path: Path):
    pipeline = Pipeline(LostCamera(), stylizer, out_dir=tmp_path)
    window = open_window(qtbot, pipeline, tmp_path)
    qtbot.waitUntil(lambda: "camera lost, retrying" in window.overlay_text(), timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Tab)  # transient messages stay with the overlay off
    assert "camera lost, retrying" in window.overlay_text()
    assert "alpha" not in window.overlay_text()
    window.close()
    assert not any(t.is_alive() for t in pipeline.threads)


def window_options(record: Path) -> dict:
    """run_window's options as `livestyle live --record RECORD` gives them, out_dir beside it."""
    return dict(out_dir=record.parent, record=record, fullscreen=False, adder=AdderOptions())


def run_window_until_signal(pipeline: Pipeline, record: Path, signum: int) -> int:
    """run_window, recording to `record`, with a timer that sends signum once the window
    shows a frame."""

    def poke() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, LiveWindow)]
        if any(w.isVisible() and w.frames_shown > 2 for w in windows):
            os.kill(os.getpid(), signum)
            timer.stop()

    timer = QTimer()
    timer.timeout.connect(poke)
    timer.start(50)
    safety = QTimer()  # never hang the test run: close every window after a while
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.closeAllWindows)
    safety.start(WAIT_MS)
    try:
        return run_window(pipeline, **window_options(record))
    finally:
        timer.stop()
        safety.stop()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_window_signals(qapp, stylizer: Stylizer, tmp_path: Path, signum: int) -> None:
    pipeline = demo_pipeline(stylizer, tmp_path)
    stops = count_stops(pipeline)
    record = tmp_path / "take.mp4"
    before = signal.getsignal(signum)
    code = run_window_until_signal(pipeline, record, signum)
    assert code == 128 + signum
    assert stops == [1]
    assert not any(t.is_alive() for t in pipeline.threads)
    assert signal.getsignal(signum) is before
    assert_playable(record)


def test_live_command_in_a_window_exits_on_sigterm(styles_dir: Path, tmp_path: Path) -> None:
    """The whole `livestyle live` path in a real process: window, SIGTERM, summary, code 143."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LIVESTYLE_STYLES_DIR": ""}
    command = [sys.executable, "-m", "livestyle", "live", "--source", "demo"]
    command += ["--width", str(WIDTH), "--height", str(HEIGHT), "--styles-dir", str(styles_dir)]
    command += ["--out-dir", str(tmp_path), "--record", str(tmp_path / "live.mp4")]
    proc = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    recording = tmp_path / "live.mp4"
    wait_until_recording(recording, proc)  # not a fixed wait: a busy CPU starts slowly
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "stylized" in out and "display dropped" in out
    assert_playable(recording)


class FailingWriter:
    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        pass

    def write(self, frame: np.ndarray, time: float) -> int:
        raise OSError(28, "No space left on device")

    def release(self) -> None:
        pass


def test_run_window_prints_a_recording_error_at_the_end(
    qapp, stylizer: Stylizer, tmp_path: Path, capsys
) -> None:
    pipeline = Pipeline(
        DemoSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=tmp_path, writer_factory=FailingWriter
    )

    def close_after_failure() -> None:
        if pipeline.recording_error is not None:
            QApplication.closeAllWindows()

    timer = QTimer()
    timer.timeout.connect(close_after_failure)
    timer.start(50)
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(QApplication.closeAllWindows)
    safety.start(WAIT_MS)
    try:
        run_window(pipeline, **window_options(tmp_path / "take.mp4"))
    finally:
        timer.stop()
        safety.stop()
    err = capsys.readouterr().err
    assert "livestyle: error: recording to" in err and "No space left" in err


# --- the overlay: blends, toasts that fade, lines that wrap ---
class Clock:
    """A clock the test moves by hand: the session's toasts follow it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def idle_window(qtbot, session: LiveSession, size: tuple[int, int] = BOX) -> LiveWindow:
    """A shown window over a session whose threads never start: only the overlay changes."""
    window = LiveWindow(session, size=size)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def red_pixels(bgr: np.ndarray) -> np.ndarray:
    """Where red text (an error) was drawn: red well above green and blue."""
    blue, green, red = (bgr[..., c].astype(int) for c in range(3))
    return (red > 60) & (red > green + 40) & (red > blue + 40)


def test_the_overlay_names_a_blend_and_its_weights(qtbot, tmp_path: Path) -> None:
    folder = write_styles(tmp_path / "styles", names=("alpha",))
    write_network(folder / "net.lite.safetensors")  # red, green, blue: one body, they blend
    styles = load_styles(scan_styles([folder], prefer_variant="lite"))
    stylizer = Stylizer(styles, torch.device("cpu"), "fp32")
    window = idle_window(qtbot, LiveSession(demo_pipeline(stylizer, tmp_path)))

    def first_line() -> str:
        return window.overlay_text().splitlines()[0]

    stylizer.blend([(1, 0.6), (2, 0.4)], fade=False)
    assert first_line() == "[2] red 60% + green 40%"
    stylizer.blend([(3, 1.0), (1, 1.0), (2, 2.0)], fade=False)
    assert first_line() == "[3] green 50% + blue 25% + red 25%"
    stylizer.blend([(0, 0.3), (1, 0.7)], fade=False)  # other bodies: only the heavier runs
    assert first_line() == "[2] red"
    stylizer.select(0)
    assert first_line() == "[1] alpha"


def test_a_toast_fades_over_its_last_second_then_goes(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    clock = Clock()
    session = LiveSession(demo_pipeline(stylizer, tmp_path), out_dir=tmp_path, clock=clock)
    window = idle_window(qtbot, session)
    window.toggle_overlay()  # only messages: the toast is the one red thing drawn
    session.toast("cannot record: disk full", "error")

    def toast_colours() -> list:
        return [c for text, c in window.overlay_lines() if text == "cannot record: disk full"]

    assert toast_colours() == [RED]
    full = to_bgr(window.grab().toImage())
    clock.now += FAILURE_TOAST_SECONDS - FADE_SECONDS / 2  # half way through its last second
    (fading,) = toast_colours()
    assert fading.alphaF() == pytest.approx(0.5, abs=0.01)
    half = to_bgr(window.grab().toImage())
    assert red_pixels(full).any() and red_pixels(half).any()
    brightest = [int(shot[..., 2][red_pixels(shot)].max()) for shot in (full, half)]
    assert brightest[1] < 0.7 * brightest[0], brightest  # drawn fainter
    clock.now += FADE_SECONDS / 2  # its time is up: gone, before the next tick too
    assert toast_colours() == [] and "disk full" not in window.overlay_text()
    assert not red_pixels(to_bgr(window.grab().toImage())).any()


def test_a_long_error_wraps_inside_a_960_px_window(
    qtbot, stylizer: Stylizer, tmp_path: Path
) -> None:
    session = LiveSession(demo_pipeline(stylizer, tmp_path), out_dir=tmp_path)
    window = idle_window(qtbot, session, size=(960, 720))
    assert window.width() == 960
    camera = (
        "virtual camera off: 'v4l2loopback' backend: No v4l2 loopback device found at "
        "/dev/video[0-99]. Did you run 'modprobe v4l2loopback'?; to set one up: sudo apt "
        "install v4l2loopback-dkms && sudo modprobe v4l2loopback devices=1 exclusive_caps=1"
    )
    path = f"{tmp_path}/" + "a-folder-with-a-rather-long-name/" * 6 + "livestyle.png"
    snapshot = f"could not save snapshot: {path}: Not a directory"
    session.toast(camera, "error")
    session.toast(snapshot, "error")
    rows = window.overlay_rows()
    red = [text for text, color, _ in rows if color == RED]
    assert len(red) > 2  # both wrapped, into more rows than messages
    assert "".join(red).replace(" ", "") == (camera + snapshot).replace(" ", "")  # all kept
    room = 960 - 2 * (MARGIN + box_padding(text_font(window.font(), window.height())))
    for text, _, font in rows:
        assert QFontMetrics(font).horizontalAdvance(text) <= room, text
    shot = to_bgr(window.grab().toImage())
    assert red_pixels(shot[:, :-MARGIN]).any()  # the error was drawn...
    assert not red_pixels(shot[:, -MARGIN:]).any()  # ...and none of it at the window's edge
