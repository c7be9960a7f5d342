"""Can Qt open a window here? Answer before Qt does: Qt aborts the process (exit 134,
"Could not load the Qt platform plugin ...") where a one-line error with a fix is wanted.
"""

from __future__ import annotations

import ctypes.util
import os
import sys
from collections.abc import Callable, Mapping

from livestyle.errors import LivestyleError

# Qt 6.5+ loads its X11 (xcb) plugin only with this library; Debian/Ubuntu package name.
XCB_CURSOR_LIBRARY = "xcb-cursor"
XCB_CURSOR_PACKAGE = "libxcb-cursor0"


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> str | None:
    """Why a window cannot open on this machine, or None when it should."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have their native platform plugin
    if env.get("QT_QPA_PLATFORM"):
        return None  # chosen explicitly (offscreen, vnc, wayland...): Qt knows what to do
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set); "
            "'livestyle live --headless' runs without one"
        )
    if not env.get("WAYLAND_DISPLAY") and find_library(XCB_CURSOR_LIBRARY) is None:
        return (
            f"Qt cannot open a window on this X11 display without the system package "
            f"{XCB_CURSOR_PACKAGE} (sudo apt install {XCB_CURSOR_PACKAGE}); "
            "'livestyle live --headless' runs without a window"
        )
    return None


def require_display() -> None:
    """Raise the one-line error (exit code 2) when no window can open."""
    problem = display_problem()
    if problem is not None:
        raise LivestyleError(problem)
