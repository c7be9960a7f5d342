"""No display: one line and exit code 2 before Qt aborts the process (it exits 134)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from livestyle.ui.display import XCB_CURSOR_PACKAGE, display_problem

from .media import write_styles

REPO = Path(__file__).resolve().parent.parent


def found(_name: str) -> str:
    return "libxcb-cursor.so.0"


def missing(_name: str) -> None:
    return None


def test_no_display_variables_is_a_problem_on_linux() -> None:
    problem = display_problem({}, "linux", found)
    assert problem is not None and "no display" in problem and "--headless" in problem
    assert display_problem({}, "win32", found) is None
    assert display_problem({}, "darwin", found) is None


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "xcb", "wayland"])
def test_an_explicit_qt_platform_is_trusted(platform: str) -> None:
    assert display_problem({"QT_QPA_PLATFORM": platform}, "linux", missing) is None


def test_x11_without_xcb_cursor_names_the_package() -> None:
    problem = display_problem({"DISPLAY": ":0"}, "linux", missing)
    assert problem is not None and XCB_CURSOR_PACKAGE in problem and "--headless" in problem
    assert display_problem({"DISPLAY": ":0"}, "linux", found) is None
    # Wayland does not need the X11 plugin's library.
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", missing) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is Linux-only")
def test_live_without_a_display_exits_2_with_one_line(tmp_path: Path) -> None:
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env |= {
        "LIVESTYLE_STYLES_DIR": str(write_styles(tmp_path / "styles")),
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-m", "livestyle", "--source", "demo", "--max-frames", "3"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "--headless" in lines[0]
