"""No display, or one that cannot be reached: one line and exit code 2 before Qt aborts the
process (it exits 134)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from livestyle.ui.display import (
    X11_TCP_PORT,
    XCB_CURSOR_PACKAGE,
    XCB_ERRORS,
    display_problem,
    load_xcb,
    socket_problem,
    within,
    x11_unreachable,
    xcb_problem,
)

from .media import write_styles

REPO = Path(__file__).resolve().parent.parent
# No X server listens there on any machine these tests run on.
NO_SUCH_DISPLAY = ":987"
needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux-only")


def found(_name: str) -> str:
    return "libxcb-cursor.so.0"


def missing(_name: str) -> None:
    return None


def reachable(_display: str) -> None:
    return None


def unreachable(_display: str) -> str:
    return "connection refused"


def test_no_display_variables_is_a_problem_on_linux() -> None:
    problem = display_problem({}, "linux", found)
    assert problem is not None and "no display" in problem and "--headless" in problem
    assert display_problem({}, "win32", found) is None
    assert display_problem({}, "darwin", found) is None


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "wayland", "vnc", "wayland;xcb"])
def test_an_explicit_qt_platform_is_trusted(platform: str) -> None:
    env = {"QT_QPA_PLATFORM": platform, "DISPLAY": NO_SUCH_DISPLAY}
    assert display_problem(env, "linux", missing, unreachable) is None
    assert display_problem({"QT_QPA_PLATFORM": platform}, "linux", missing, unreachable) is None


def test_x11_chosen_explicitly_is_checked_like_the_default() -> None:
    # Qt's xcb plugin aborts the process whether it was chosen or defaulted to.
    for chosen in ("xcb", "xcb:nograb"):
        alone = display_problem({"QT_QPA_PLATFORM": chosen}, "linux", found, reachable)
        assert alone is not None and "DISPLAY is not set" in alone
        env = {"QT_QPA_PLATFORM": chosen, "DISPLAY": ":5", "WAYLAND_DISPLAY": "wayland-0"}
        problem = display_problem(env, "linux", found, unreachable)
        assert problem is not None and "DISPLAY=:5 cannot be reached" in problem
        assert display_problem(env, "linux", found, reachable) is None


def test_x11_without_xcb_cursor_names_the_package() -> None:
    problem = display_problem({"DISPLAY": ":0"}, "linux", missing, reachable)
    assert problem is not None and XCB_CURSOR_PACKAGE in problem and "--headless" in problem
    assert display_problem({"DISPLAY": ":0"}, "linux", found, reachable) is None
    # Wayland does not need the X11 plugin's library, nor an X server.
    env = {"WAYLAND_DISPLAY": "wayland-0"}
    assert display_problem(env, "linux", missing, unreachable) is None


def test_an_unreachable_display_is_named_and_not_blamed_on_xcb_cursor() -> None:
    asked: list[str] = []

    def refused(display: str) -> str:
        asked.append(display)
        return "connection refused"

    for library in (found, missing):
        problem = display_problem({"DISPLAY": "remote:3.0"}, "linux", library, refused)
        assert problem is not None and "DISPLAY=remote:3.0 cannot be reached" in problem
        assert "connection refused" in problem and "--headless" in problem
        assert XCB_CURSOR_PACKAGE not in problem
    assert asked == ["remote:3.0", "remote:3.0"]


@needs_linux
def test_a_display_with_no_server_is_unreachable_through_the_real_probe() -> None:
    problem = display_problem({"DISPLAY": NO_SUCH_DISPLAY}, "linux", found)
    assert problem is not None
    assert f"DISPLAY={NO_SUCH_DISPLAY} cannot be reached" in problem and "--headless" in problem
    assert XCB_CURSOR_PACKAGE not in problem
    assert "\n" not in problem


@needs_linux
def test_libxcb_and_the_socket_fallback_agree_that_no_server_is_there() -> None:
    assert socket_problem(NO_SUCH_DISPLAY) == XCB_ERRORS[1]
    xcb = load_xcb()
    if xcb is None:
        pytest.skip("libxcb is not installed")
    assert xcb_problem(xcb, NO_SUCH_DISPLAY) == XCB_ERRORS[1]
    assert xcb_problem(xcb, "not a display name") is not None


@needs_linux
def test_the_socket_fallback_finds_a_listening_unix_socket(tmp_path: Path) -> None:
    assert socket_problem(":5", socket_dir=str(tmp_path)) == XCB_ERRORS[1]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "X5"))
        server.listen()
        assert socket_problem(":5", socket_dir=str(tmp_path)) is None
        assert socket_problem("unix:5.0", socket_dir=str(tmp_path)) is None
        assert socket_problem(":6", socket_dir=str(tmp_path)) is not None
    assert socket_problem("no colon", socket_dir=str(tmp_path)) == XCB_ERRORS[5]
    assert socket_problem(":x", socket_dir=str(tmp_path)) == XCB_ERRORS[5]


@pytest.fixture
def silent_x_port() -> Iterator[int]:
    """A display number on 127.0.0.1 whose port accepts connections and never answers."""
    for number in range(900, 1000):
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            server.bind(("127.0.0.1", X11_TCP_PORT + number))
        except OSError:
            server.close()
            continue
        server.listen()
        with server:
            yield number
        return
    pytest.skip("no free port for a fake X server")


def test_the_socket_fallback_connects_over_tcp(silent_x_port: int) -> None:
    assert socket_problem(f"127.0.0.1:{silent_x_port}") is None
    assert socket_problem(f"localhost:{silent_x_port}.0") is None


def test_the_socket_fallback_reports_a_closed_tcp_port(silent_x_port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as unused:
        unused.bind(("127.0.0.1", 0))  # a port nobody listens on while this holds it
        port = unused.getsockname()[1]
        if port <= X11_TCP_PORT:
            pytest.skip("the system gave a port below the X11 range")
        assert socket_problem(f"127.0.0.1:{port - X11_TCP_PORT}") == XCB_ERRORS[1]


def test_a_server_that_never_answers_is_given_up_on(silent_x_port: int) -> None:
    if load_xcb() is None:
        pytest.skip("libxcb is not installed: a bare connect does not wait for an answer")
    problem = x11_unreachable(f"127.0.0.1:{silent_x_port}", timeout=0.5)
    assert problem == "no answer within 0.5 s"


def test_a_probe_is_timed_out_or_answers() -> None:
    release = threading.Event()
    assert within(0.1, lambda: release.wait(30) and None) == "no answer within 0.1 s"
    release.set()
    assert within(5, lambda: "refused") == "refused"
    assert within(5, lambda: 1 / 0) is None  # a broken probe lets Qt try


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is Linux-only")
def live_window_run(tmp_path: Path, display: str | None) -> subprocess.CompletedProcess[str]:
    """`livestyle` (a window wanted) in a fresh process, with DISPLAY set to `display` (None:
    unset) and no Wayland or Qt platform to fall back on."""
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env |= {
        "LIVESTYLE_STYLES_DIR": str(write_styles(tmp_path / "styles")),
        "PYTHONPATH": str(REPO),
    }
    if display is not None:
        env["DISPLAY"] = display
    return subprocess.run(
        [sys.executable, "-m", "livestyle", "--source", "demo", "--max-frames", "3"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_live_without_a_display_exits_2_with_one_line(tmp_path: Path) -> None:
    done = live_window_run(tmp_path, None)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "--headless" in lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is Linux-only")
def test_live_with_an_unreachable_display_exits_2_with_one_line(tmp_path: Path) -> None:
    done = live_window_run(tmp_path, NO_SUCH_DISPLAY)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert f"DISPLAY={NO_SUCH_DISPLAY} cannot be reached" in lines[0] and "--headless" in lines[0]
