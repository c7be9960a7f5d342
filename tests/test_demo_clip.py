"""The built-in demo: `--source demo` plays the packaged footage of a face, looping forever at
its own rate and covering the requested size; `--source demo-scene` is the drawn scene; with
no camera the app plays the footage and says so; a broken install falls back to the scene."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.commands import live
from livestyle.config import LiveConfig
from livestyle.core.errors import SourceError
from livestyle.live.capture import CaptureThread
from livestyle.live.slot import Frame, LatestSlot
from livestyle.video import sources
from livestyle.video.demo import DEMO, DEMO_SCENE, DemoSource, demo_clip_path
from livestyle.video.sources import DemoClipSource, open_source

CLIP = demo_clip_path()
CLIP_SIZE = (480, 360)  # what benchmarks/render/make_demo_clip.py renders
CLIP_FPS = 24.0


def test_the_clip_is_in_the_package() -> None:
    # Not a skip: the clip is part of the app (committed; .gitignore must not drop it).
    assert CLIP.is_file(), f"{CLIP} missing: python benchmarks/render/make_demo_clip.py"


def test_demo_by_name_is_the_packaged_clip_paced_at_its_own_rate() -> None:
    source = open_source(DEMO)
    try:
        assert isinstance(source, DemoClipSource) and source.name == DEMO
        # Paced like a file (the capture thread sleeps between frames), never "lost".
        assert source.paced and not source.live
        assert source.fps == pytest.approx(CLIP_FPS)
        frame = source.read()
        assert frame is not None and frame.dtype == np.uint8
        assert frame.shape == (CLIP_SIZE[1], CLIP_SIZE[0], 3)
    finally:
        source.close()


@pytest.mark.parametrize("size", [(64, 48), (320, 240), (1280, 720), (90, 160), (33, 17)])
def test_frames_cover_the_requested_size_without_bars(size: tuple[int, int]) -> None:
    width, height = size
    source = open_source(DEMO, width, height)
    try:
        frames = [source.read() for _ in range(3)]
    finally:
        source.close()
    for frame in frames:
        assert frame is not None and frame.shape == (height, width, 3)
        assert frame.flags["C_CONTIGUOUS"]
        # Covered, not letterboxed: every edge row and column shows the picture.
        edges = [frame[0], frame[-1], frame[:, 0], frame[:, -1]]
        assert all(edge.mean() > 8 for edge in edges)


@pytest.mark.parametrize(
    "given, expected", [((240, None), (240, 180)), ((None, 90), (120, 90)), ((None, None), None)]
)
def test_one_side_given_keeps_the_clips_aspect(given, expected) -> None:
    source = open_source(DEMO, *given)
    try:
        frame = source.read()
    finally:
        source.close()
    width, height = expected or CLIP_SIZE
    assert frame is not None and frame.shape[:2] == (height, width)


def test_it_loops_past_its_end_from_its_first_frame() -> None:
    source = open_source(DEMO, 96, 72)
    try:
        assert isinstance(source, DemoClipSource)
        count = source.frame_count
        assert count > 24 * 4  # a few seconds, as the issue asked
        frames = [source.read() for _ in range(count + 10)]
    finally:
        source.close()
    assert all(frame is not None for frame in frames)
    np.testing.assert_array_equal(frames[count], frames[0])  # rewound, not a new picture
    np.testing.assert_array_equal(frames[count + 9], frames[9])
    assert not np.array_equal(frames[count - 1], frames[0])  # and it did reach its end


class RecordingSlot(LatestSlot[Frame]):
    """Keeps the time of every frame put."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def put(self, item: Frame) -> bool:
        self.times.append(item.pts)
        return super().put(item)


def test_the_capture_thread_plays_it_on_without_loop_and_timestamps_run_on() -> None:
    source = open_source(DEMO, 64, 48)
    assert isinstance(source, DemoClipSource)
    wanted = source.frame_count + 5
    slot = RecordingSlot()
    ticks = iter(range(10**9))  # a clock always ahead of the pacing: no real waits
    thread = CaptureThread(source, slot, max_frames=wanted, clock=lambda: float(next(ticks)))
    thread.run()
    assert thread.error is None and thread.captured == wanted  # it never ended on its own
    steps = np.diff(slot.times)
    np.testing.assert_allclose(steps, 1.0 / CLIP_FPS)  # paced times, none reset at the loop


def test_demo_scene_is_the_drawn_scene_at_the_requested_rate() -> None:
    source = open_source(DEMO_SCENE, 64, 48, 60.0)
    assert isinstance(source, DemoSource) and source.name == DEMO_SCENE
    assert source.fps == 60.0 and source.paced
    frame = source.read()
    assert frame is not None and frame.shape == (48, 64, 3)


def fail_the_camera(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """live.open_source with camera 0 missing; returns the specs opened."""
    opened: list[str] = []

    def no_camera(spec: str, *args):
        opened.append(spec)
        if spec.isdigit():
            raise SourceError(f"no camera at index {spec}")
        return open_source(spec, *args)

    monkeypatch.setattr(live, "open_source", no_camera)
    return opened


def test_no_camera_plays_the_demo_clip_and_says_so(monkeypatch, capsys) -> None:
    opened = fail_the_camera(monkeypatch)
    source = live.open_live_source(LiveConfig(width=64, height=48))
    try:
        assert isinstance(source, DemoClipSource)
        assert opened == ["0", DEMO]
        frame = source.read()
        assert frame is not None and frame.shape == (48, 64, 3)
    finally:
        source.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "livestyle: no camera found; playing the built-in demo clip "
        "(use --source VIDEO_FILE to play your own video)"
    ]


def broken_clip(kind: str, folder: Path) -> Path:
    path = folder / "demo_face.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(os.urandom(4096))
    elif kind == "truncated":  # a real header, its frames cut off
        path.write_bytes(CLIP.read_bytes()[:2000])
    return path  # "missing": never written


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "truncated"])
def test_a_broken_clip_falls_back_to_the_scene_with_one_warning(
    kind: str, tmp_path, monkeypatch, caplog
) -> None:
    path = broken_clip(kind, tmp_path)
    monkeypatch.setattr(sources, "demo_clip_path", lambda: path)
    with caplog.at_level(logging.WARNING):
        source = open_source(DEMO, 64, 48)
    assert isinstance(source, DemoSource) and source.name == DEMO_SCENE
    frame = source.read()
    assert frame is not None and frame.shape == (48, 64, 3)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert str(path) in warning and "demo scene" in warning and "reinstall" in warning
    assert "\n" not in warning


def test_no_camera_and_no_clip_says_it_plays_the_scene(tmp_path, monkeypatch, capsys) -> None:
    fail_the_camera(monkeypatch)
    monkeypatch.setattr(sources, "demo_clip_path", lambda: tmp_path / "gone.mp4")
    source = live.open_live_source(LiveConfig())
    assert isinstance(source, DemoSource)
    assert "no camera found; playing the built-in demo scene" in capsys.readouterr().err


def test_a_broken_clip_on_the_command_line_is_a_warning_not_an_error(
    styles_env, tmp_path: Path
) -> None:
    """The whole app in a child process (as a user would see it): stderr has no traceback,
    and the run ends normally on the scene."""
    code = (
        "import sys; from pathlib import Path; import livestyle.video.sources as s; "
        f"s.demo_clip_path = lambda: Path({str(tmp_path / 'gone.mp4')!r}); "
        "from livestyle.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    argv = ["live", "--headless", "--source", DEMO, "--max-frames", "3"]
    argv += ["--width", "64", "--height", "48"]
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        env=styles_env,  # the test styles, and this checkout on PYTHONPATH
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    warnings = [line for line in done.stderr.splitlines() if "demo scene" in line]
    assert len(warnings) == 1 and "gone.mp4: no such file" in warnings[0]
    assert done.stdout.startswith("captured 3")


# Frontal and profile: the actor looks past the camera in much of the shot.
HAAR_FILES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")


@pytest.mark.skipif(
    not hasattr(cv2, "CascadeClassifier"),
    reason=f"OpenCV {cv2.__version__} has no Haar detector (moved out in OpenCV 5: "
    "pip install 'opencv-python-headless<5' to run this)",
)
def test_the_clip_shows_a_face_in_most_frames() -> None:
    detectors = [cv2.CascadeClassifier(cv2.data.haarcascades + name) for name in HAAR_FILES]
    source = open_source(DEMO)
    try:
        assert isinstance(source, DemoClipSource)
        frames = [source.read() for _ in range(source.frame_count)]
    finally:
        source.close()
    # A face at least a sixth of the picture's height: prominent, not a passer-by.
    smallest = (CLIP_SIZE[1] // 6, CLIP_SIZE[1] // 6)
    found = 0
    for frame in frames:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        found += any(len(d.detectMultiScale(grey, 1.1, 4, minSize=smallest)) for d in detectors)
    assert found / len(frames) >= 0.6, f"a face in {found} of {len(frames)} frames"


# --- the installed package: the clip and its credit travel in the wheel ---
@pytest.mark.slow
def test_the_wheel_carries_the_clip_and_an_install_plays_it(tmp_path: Path) -> None:
    from .test_packaging import REPO, _setuptools_major

    if _setuptools_major() < 77:
        pytest.skip("setuptools >= 77 not installed")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "-q", "-w", str(tmp_path / "wheel"), str(REPO)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = (tmp_path / "wheel").glob("livestyle-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    footage = "livestyle/video/footage/"
    assert {footage + "demo_face.mp4", footage + "SOURCE.md"} <= set(names)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "cwd"  # away from the checkout: only the unpacked wheel imports
    elsewhere.mkdir()
    probe = (
        "from livestyle.video.sources import open_source; s = open_source('demo'); "
        "f = s.read(); print(type(s).__name__, f.shape, s.spec)"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "DemoClipSource"
    assert str(site / "livestyle" / "video" / "footage" / "demo_face.mp4") in done.stdout
