"""The virtual camera sink: frames in order, at their size, in BGR; a slow or failing device
never holds up the stream; no pyvirtualcam or no device is one line and the run goes on.

No real device is used: the sink takes a fake `open_camera` factory, and the pyvirtualcam
adapter and the command line are run against a fake `pyvirtualcam` module.
"""

from __future__ import annotations

import enum
import logging
import platform
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from livestyle.cli import main
from livestyle.core.errors import VirtualCamError
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import FAILURE_TOAST_SECONDS, LiveSession
from livestyle.live.virtualcam import (
    LINUX_DEVICE_HINT,
    OBS_HINT,
    PIP_HINT,
    VirtualCamSink,
    missing_backend_message,
    open_virtual_camera,
)
from livestyle.stylizer import Stylizer
from livestyle.ui.overlay import FADE_SECONDS, GREEN, OverlayState, overlay_lines
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource

from .fakes import SIZE, DemoClip, FakeVirtualCams, stop_quickly, wait_for

WIDTH, HEIGHT = SIZE
WAIT_MS = 30_000  # a deadline for a condition: generous, a busy CPU is slow
NO_DEVICE = (
    "'v4l2loopback' backend: No v4l2 loopback device found at /dev/video[0-99]. "
    "Did you run 'modprobe v4l2loopback'?"
)


def bgr_frame(i: int) -> np.ndarray:
    """Frame i: blue i, green 100, red 200, so order and channel order both show."""
    frame = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    frame[...] = (i, 100, 200)
    return frame


def fake_pyvirtualcam(*, bgr: bool = True, error: str | None = None) -> types.ModuleType:
    """A stand-in for pyvirtualcam: its Camera checks frames as the real one does and keeps
    them; with `error` no device opens; without `bgr` it is a version with RGB only."""
    module = types.ModuleType("pyvirtualcam")
    module.PixelFormat = enum.Enum(  # type: ignore[attr-defined]
        "PixelFormat", {"RGB": "raw ", **({"BGR": "24BG"} if bgr else {})}
    )
    module.cameras = []  # type: ignore[attr-defined]

    class Camera:
        def __init__(self, width: int, height: int, fps: float, *, fmt, **_options) -> None:
            if error is not None:
                raise RuntimeError(error)
            self.width, self.height, self.fps, self.fmt = width, height, fps, fmt
            self.device = "/dev/video9"
            self.frames: list[np.ndarray] = []
            self.closed = False
            module.cameras.append(self)  # type: ignore[attr-defined]

        def send(self, frame: np.ndarray) -> None:
            if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
                raise ValueError(f"unexpected frame shape: {frame.shape}")
            self.frames.append(frame.copy())

        def close(self) -> None:
            self.closed = True

    module.Camera = Camera  # type: ignore[attr-defined]
    return module


class StillSource(DemoSource):
    """The demo's first picture over and over: the stylized frames change only with the style."""

    def read(self) -> np.ndarray | None:
        self._index = 0
        return super().read()


def sent_style(frame: np.ndarray, a: np.ndarray, b: np.ndarray) -> str:
    """'a' or 'b': which of two expected pictures a sent frame is (within rounding)."""
    diff_a = np.abs(frame.astype(np.int16) - a).mean()
    diff_b = np.abs(frame.astype(np.int16) - b).mean()
    assert min(diff_a, diff_b) < 2.0, (diff_a, diff_b)
    return "a" if diff_a < diff_b else "b"


# --- the sink ---
def test_frames_arrive_in_order_at_their_size_in_bgr() -> None:
    cams = FakeVirtualCams()
    sink = VirtualCamSink(25.0, open_camera=cams)
    sink.switch_on()
    sink.start()
    try:
        for i in range(8):
            sink.submit(bgr_frame(i))
            wait_for(lambda i=i: len(cams.frames) == i + 1, what=f"frame {i} sent")
    finally:
        sink.stop()
        sink.join(5)
    assert len(cams.cameras) == 1
    camera = cams.cameras[0]
    assert (camera.size, camera.fps) == ((WIDTH, HEIGHT), 25.0)
    for i, frame in enumerate(camera.frames):
        assert np.array_equal(frame, bgr_frame(i)), f"frame {i}: reordered or not BGR"
    assert (sink.sent, sink.dropped, sink.error) == (8, 0, None)
    assert camera.closed and not sink.is_alive()


def test_switched_off_sends_nothing_and_frees_the_device() -> None:
    cams = FakeVirtualCams()
    sink = VirtualCamSink(30.0, open_camera=cams)
    sink.start()
    try:
        sink.submit(bgr_frame(1))  # off: not even queued
        assert sink.slot.pending == 0
        sink.switch_on()
        sink.submit(bgr_frame(2))
        wait_for(lambda: len(cams.frames) == 1, what="a frame sent")
        sink.switch_off()
        wait_for(lambda: cams.cameras[0].closed, what="the camera closed")
        sink.switch_on()  # on again: a new camera on the next frame
        sink.submit(bgr_frame(3))
        wait_for(lambda: len(cams.cameras) == 2 and cams.cameras[1].frames, what="reopened")
    finally:
        sink.stop()
        sink.join(5)
    assert [int(f[0, 0, 0]) for f in cams.frames] == [2, 3]
    assert cams.cameras[1].closed


# --- in the pipeline ---
def test_pipeline_sends_the_stylized_stream_in_order(stylizer: Stylizer) -> None:
    cams = FakeVirtualCams()
    shown = []
    pipeline = Pipeline(DemoClip(frames=30), stylizer, on_frame=shown.append, open_camera=cams)
    pipeline.start_virtual_cam()  # before start, as --virtual-cam does
    pipeline.start()
    assert pipeline.wait(timeout=60)
    stop_quickly(pipeline)
    assert pipeline.virtual_cam.error is None
    (camera,) = cams.cameras
    assert (camera.size, camera.fps) == ((WIDTH, HEIGHT), 30.0)  # the camera's size and rate
    assert camera.closed and camera.frames
    # Each frame sent is a stylized frame as it is (BGR, no conversion), in stream order.
    positions = []
    for frame in camera.frames:
        matches = [i for i, s in enumerate(shown) if np.array_equal(s.stylized, frame)]
        assert matches, "a frame sent that was never stylized (converted? swapped channels?)"
        positions.append(matches[0])
    assert positions == sorted(set(positions))
    assert not np.array_equal(camera.frames[0], camera.frames[0][..., ::-1])  # RGB would show
    summary = pipeline.summary()
    assert f"virtual camera sent {len(camera.frames)}" in summary


def test_a_style_swap_shows_in_the_frames_sent(stylizer: Stylizer) -> None:
    stylizer.fade_seconds = 0.0  # swap at once: each frame is one style or the other
    source = StillSource(WIDTH, HEIGHT, fps=30)
    picture = source.read()
    first = stylizer.stylize(picture, index=0).image.astype(np.int16)
    second = stylizer.stylize(picture, index=1).image.astype(np.int16)
    assert np.abs(first - second).mean() > 5.0, "the two test styles look alike"
    cams = FakeVirtualCams()
    pipeline = Pipeline(source, stylizer, open_camera=cams)
    pipeline.start_virtual_cam()
    pipeline.start()
    try:
        wait_for(lambda: len(cams.frames) >= 3, what="frames before the swap")
        stylizer.select(1)
        wait_for(
            lambda: sent_style(cams.frames[-1], first, second) == "b", what="the new style sent"
        )
    finally:
        stop_quickly(pipeline)
    styles = "".join(sent_style(frame, first, second) for frame in cams.frames)
    assert styles.startswith("aaa") and styles.endswith("b")
    assert "ba" not in styles  # once swapped, never back


def test_a_slow_camera_never_holds_up_inference(stylizer: Stylizer) -> None:
    cams = FakeVirtualCams(block=True)
    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=60), stylizer, open_camera=cams)
    pipeline.start_virtual_cam()
    pipeline.start()
    try:
        wait_for(lambda: cams.cameras and cams.cameras[0].in_send.is_set(), what="a send")
        camera, stuck_at = cams.cameras[0], pipeline.stats.stylized
        # The camera is stuck in one send: inference goes on and the sink keeps the newest.
        wait_for(lambda: pipeline.stats.stylized >= stuck_at + 15, what="inference going on")
        assert camera.frames == [] and camera.in_send.is_set()
        assert pipeline.virtual_cam.dropped >= 13  # all but the newest waiting one
        camera.let_go.set()
        wait_for(lambda: len(camera.frames) >= 3, what="sending again")
    finally:
        for camera in cams.cameras:
            camera.let_go.set()
        stop_quickly(pipeline)
    assert pipeline.virtual_cam.error is None
    assert f"virtual camera dropped {pipeline.virtual_cam.dropped}" in pipeline.summary()


def test_a_camera_that_fails_mid_run_is_reported_once(stylizer: Stylizer, caplog) -> None:
    cams = FakeVirtualCams(fail_at=3)
    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=60), stylizer, open_camera=cams)
    pipeline.start_virtual_cam()
    pipeline.start()
    try:
        wait_for(lambda: pipeline.virtual_cam.error is not None, what="the failure")
        failed_at = pipeline.stats.stylized
        wait_for(lambda: pipeline.stats.stylized >= failed_at + 10, what="the stream going on")
        assert pipeline.running and pipeline.error is None
        assert not pipeline.virtual_cam_on and cams.cameras[0].closed
        message = "virtual camera stopped: OSError: device unplugged"
        assert pipeline.virtual_cam.error == message and pipeline.status == message
        said = [r for r in caplog.records if "virtual camera stopped" in r.getMessage()]
        assert len(said) == 1 and pipeline.virtual_cam.failures == 1
        assert len(cams.frames) == 3
        pipeline.start_virtual_cam()  # V again: a new try, the old message goes
        assert pipeline.status == ""
        wait_for(lambda: len(cams.cameras) == 2 and cams.cameras[1].frames, what="a retry")
    finally:
        stop_quickly(pipeline)


def test_in_a_live_session_a_failure_is_a_toast_that_fades_and_goes(
    stylizer: Stylizer, tmp_path: Path
) -> None:
    """Not the pipeline's status, which stayed in the overlay until the next V press."""

    def no_device(width: int, height: int, fps: float):
        raise VirtualCamError(f"virtual camera off: no device; to set one up: {OBS_HINT}")

    now = [1000.0]
    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=60), stylizer, open_camera=no_device)
    session = LiveSession(pipeline, out_dir=tmp_path, clock=lambda: now[0])

    def camera_lines() -> list:
        lines = overlay_lines(OverlayState(**vars(session.state())))
        return [color for text, color in lines if text.startswith("virtual camera off")]

    session.start(lambda frame: None, lambda thumbnail: None)
    try:
        session.toggle_virtual_cam()
        wait_for(lambda: pipeline.virtual_cam.error is not None, what="the failure")
        session.tick()  # the window's tick: the failure becomes a toast
        state = session.state()
        assert (pipeline.virtual_cam.error, "error") in state.toasts
        assert "virtual camera" not in state.status and not state.virtual_cam
        assert [color.alphaF() for color in camera_lines()] == [1.0]
        now[0] += FAILURE_TOAST_SECONDS - FADE_SECONDS / 2
        session.tick()
        assert 0.0 < camera_lines()[0].alphaF() < 1.0  # its last second: fading
        now[0] += FADE_SECONDS
        session.tick()
        assert camera_lines() == []
        now[0] += 300  # minutes later: still gone, and the stream went on
        session.tick()
        assert camera_lines() == [] and pipeline.running
    finally:
        session.shutdown()
    assert pipeline.virtual_cam.failures == 1


# --- pyvirtualcam, and what to install without it ---
def test_pyvirtualcam_gets_bgr_as_it_is(monkeypatch) -> None:
    module = fake_pyvirtualcam()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    camera = open_virtual_camera(WIDTH, HEIGHT, 30.0)
    camera.send(bgr_frame(7))
    (opened,) = module.cameras
    assert (opened.width, opened.height, opened.fps) == (WIDTH, HEIGHT, 30.0)
    assert opened.fmt is module.PixelFormat.BGR
    assert np.array_equal(opened.frames[0], bgr_frame(7))
    camera.close()
    assert opened.closed


def test_pyvirtualcam_without_bgr_gets_rgb(monkeypatch) -> None:
    module = fake_pyvirtualcam(bgr=False)
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    camera = open_virtual_camera(WIDTH, HEIGHT, 30.0)
    camera.send(bgr_frame(7))
    (opened,) = module.cameras
    assert opened.fmt is module.PixelFormat.RGB
    assert np.array_equal(opened.frames[0], bgr_frame(7)[..., ::-1])


@pytest.mark.parametrize(
    ("system", "hint"),
    [("Linux", LINUX_DEVICE_HINT), ("Windows", OBS_HINT), ("Darwin", OBS_HINT)],
)
def test_what_to_install_is_said_in_one_line(monkeypatch, system: str, hint: str) -> None:
    monkeypatch.setattr(platform, "system", lambda: system)
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)  # not installed
    with pytest.raises(VirtualCamError) as missing:
        open_virtual_camera(WIDTH, HEIGHT, 30.0)
    assert str(missing.value) == missing_backend_message(system)
    assert PIP_HINT in str(missing.value) and hint in str(missing.value)
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake_pyvirtualcam(error=NO_DEVICE))
    with pytest.raises(VirtualCamError) as no_device:
        open_virtual_camera(WIDTH, HEIGHT, 30.0)
    assert "No v4l2 loopback device" in str(no_device.value) and hint in str(no_device.value)
    for error in (missing.value, no_device.value):
        assert "\n" not in str(error) and str(error).startswith("virtual camera off: ")
    assert "modprobe" in LINUX_DEVICE_HINT and "exclusive_caps=1" in LINUX_DEVICE_HINT


# --- the command line ---
HEADLESS = ["live", "--headless", "--source", "demo-scene", "--max-frames", "20"]
HEADLESS += ["--width", str(WIDTH), "--height", str(HEIGHT), "--virtual-cam"]


def test_without_pyvirtualcam_one_line_and_the_run_goes_on(
    styles_env, monkeypatch, capsys, caplog
) -> None:
    monkeypatch.setitem(sys.modules, "pyvirtualcam", None)
    with caplog.at_level(logging.INFO):
        assert main(HEADLESS) == 0
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1].startswith("captured 20, stylized ")
    assert "Traceback" not in err
    said = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in said] == [missing_backend_message()]


def test_headless_virtual_cam_end_to_end(styles_env, monkeypatch, capsys) -> None:
    module = fake_pyvirtualcam()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    assert main(HEADLESS) == 0
    (camera,) = module.cameras
    assert (camera.width, camera.height, camera.fps) == (WIDTH, HEIGHT, 30.0)
    assert camera.fmt is module.PixelFormat.BGR and camera.closed
    assert camera.frames and all(f.shape == (HEIGHT, WIDTH, 3) for f in camera.frames)
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("captured 20, ")
    assert f"virtual camera sent {len(camera.frames)}" in summary


# --- the window ---
def test_overlay_says_when_the_virtual_camera_is_on() -> None:
    state = OverlayState(style_name="alpha")
    assert ("● VCAM", GREEN) in overlay_lines(OverlayState(style_name="alpha", virtual_cam=True))
    assert not any("VCAM" in text for text, _ in overlay_lines(state))


def open_window(qtbot, pipeline: Pipeline, tmp_path: Path) -> LiveWindow:
    window = LiveWindow(LiveSession(pipeline, out_dir=tmp_path), size=(320, 240))
    qtbot.addWidget(window)
    window.start()
    window.show()
    qtbot.waitUntil(lambda: window.frames_shown > 0, timeout=WAIT_MS)
    return window


def test_v_key_switches_the_virtual_camera(qtbot, stylizer: Stylizer, tmp_path: Path) -> None:
    cams = FakeVirtualCams()
    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=30), stylizer, open_camera=cams)
    window = open_window(qtbot, pipeline, tmp_path)
    try:
        assert "VCAM" not in window.overlay_text() and not cams.cameras
        qtbot.keyClick(window, Qt.Key.Key_V)
        assert "● VCAM" in window.overlay_text() and "virtual camera on" in window.overlay_text()
        qtbot.waitUntil(lambda: len(cams.frames) >= 3, timeout=WAIT_MS)
        qtbot.keyClick(window, Qt.Key.Key_V)
        assert "VCAM" not in window.overlay_text()
        qtbot.waitUntil(lambda: cams.cameras[0].closed, timeout=WAIT_MS)
    finally:
        window.close()
    assert not any(t.is_alive() for t in pipeline.threads)


def test_v_key_without_a_device_says_why(qtbot, stylizer: Stylizer, tmp_path: Path) -> None:
    def no_device(width: int, height: int, fps: float):
        raise VirtualCamError(f"virtual camera off: no device ({LINUX_DEVICE_HINT})")

    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=30), stylizer, open_camera=no_device)
    window = open_window(qtbot, pipeline, tmp_path)
    try:
        qtbot.keyClick(window, Qt.Key.Key_V)
        qtbot.waitUntil(lambda: "modprobe v4l2loopback" in window.overlay_text(), timeout=WAIT_MS)
        assert "VCAM" not in window.overlay_text()  # it went off by itself
        frames = window.frames_shown
        qtbot.waitUntil(lambda: window.frames_shown > frames + 3, timeout=WAIT_MS)  # still live
    finally:
        window.close()
