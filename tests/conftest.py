"""Shared fixtures: small random-weight styles, a CPU stylizer over them, a short test video,
the environment for running the command on them, and private state and settings folders."""

from __future__ import annotations

import os

# Before anything imports Qt: tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from livestyle.discovery import load_styles, scan_styles
from livestyle.stylizer import Stylizer  # noqa: E402

from .media import write_styles, write_video  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def state_folder(tmp_path: Path, monkeypatch) -> Path:
    """Where the app writes its error log in this test: never the user's own state folder
    (child processes started with os.environ inherit it too)."""
    folder = tmp_path / "state"
    monkeypatch.setenv("LIVESTYLE_STATE_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def config_folder(tmp_path: Path, monkeypatch) -> Path:
    """Where the live window keeps its settings in this test: never the user's own, which
    would both steer the test and be overwritten by it (child processes inherit it too)."""
    folder = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture(autouse=True)
def session_cache_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """Where ONNX Runtime models are kept between runs in this test: a fresh folder, so no
    test starts from a model another test made (child processes inherit it too), and outside
    tmp_path, where tests look for what the app wrote."""
    folder = tmp_path_factory.mktemp("sessions")
    monkeypatch.setenv("LIVESTYLE_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def styles_dir(tmp_path: Path) -> Path:
    """A folder holding three random-weight lite styles: alpha, beta, gamma (in key order)."""
    return write_styles(tmp_path / "styles")


@pytest.fixture
def stylizer(styles_dir: Path) -> Stylizer:
    """A CPU stylizer loaded from styles_dir, through the same path the app uses."""
    styles = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    return Stylizer(styles, torch.device("cpu"), "fp32")


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A 64x48, 30 fps, 20-frame mp4v video with moving content."""
    return write_video(tmp_path / "clip.mp4", frames=20, fps=30.0, size=(64, 48))


@pytest.fixture
def styles_env(styles_dir: Path, tmp_path: Path, monkeypatch) -> dict[str, str]:
    """Test styles only, no user styles: set here for main(), returned for child processes."""
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(styles_dir))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
