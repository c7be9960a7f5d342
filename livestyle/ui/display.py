"""Can Qt open a window here? Answer before Qt does: Qt aborts the process (exit 134,
"Could not load the Qt platform plugin ...") where a one-line error with a fix is wanted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import sys
import threading
from collections.abc import Callable, Mapping

from livestyle.core.errors import LivestyleError

# Qt 6.5+ loads its X11 (xcb) plugin only with this library; Debian/Ubuntu package name.
XCB_CURSOR_LIBRARY = "xcb-cursor"
XCB_CURSOR_PACKAGE = "libxcb-cursor0"
XCB_LIBRARY = "xcb"
# A reachable X server answers in milliseconds; a dead remote host could leave a TCP connect
# (and Qt after us) waiting for minutes.
X11_TIMEOUT_S = 10.0
X11_SOCKET_DIR = "/tmp/.X11-unix"
X11_TCP_PORT = 6000
HEADLESS_HINT = "'livestyle live --headless' runs without a window"

# Why an X server could not be reached: the reason, or None when it answered.
X11Probe = Callable[[str], "str | None"]


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
    x11_problem: X11Probe | None = None,
) -> str | None:
    """Why a window cannot open on this machine, or None when it should."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    x11_problem = x11_unreachable if x11_problem is None else x11_problem
    if not platform.startswith("linux"):
        return None  # Windows and macOS always have their native platform plugin
    chosen = env.get("QT_QPA_PLATFORM", "")
    # Chosen explicitly (offscreen, vnc, wayland, a fallback list...): Qt knows what to do;
    # only its X11 plugin aborts the process, so "xcb" is checked like the default.
    if chosen and chosen.split(":")[0] != "xcb":
        return None
    display = env.get("DISPLAY", "")
    wayland = bool(env.get("WAYLAND_DISPLAY")) and not chosen
    if not display and not wayland:
        unset = "DISPLAY is not set" if chosen else "neither DISPLAY nor WAYLAND_DISPLAY is set"
        return (
            f"no display to open a window on ({unset}); "
            "'livestyle live --headless' runs without one"
        )
    if wayland:
        return None  # Qt takes its Wayland plugin, which needs neither X nor xcb-cursor
    reason = x11_problem(display)
    if reason is not None:
        # Qt would blame a missing libxcb-cursor0 here, wrongly: say what is wrong instead.
        return f"the X display DISPLAY={display} cannot be reached ({reason}); {HEADLESS_HINT}"
    if find_library(XCB_CURSOR_LIBRARY) is None:
        return (
            f"Qt cannot open a window on this X11 display without the system package "
            f"{XCB_CURSOR_PACKAGE} (sudo apt install {XCB_CURSOR_PACKAGE}); {HEADLESS_HINT}"
        )
    return None


def require_display() -> None:
    """Raise the one-line error (exit code 2) when no window can open."""
    problem = display_problem()
    if problem is not None:
        raise LivestyleError(problem)


# --- reaching the X server as Qt's xcb plugin will ---


def x11_unreachable(display: str, timeout: float = X11_TIMEOUT_S) -> str | None:
    """Why the X server named by `display` cannot be reached, or None when it answers.

    Through libxcb, as Qt connects (display name parsing, abstract sockets, authorization),
    else a plain socket connect to where the server listens."""
    xcb = load_xcb()
    if xcb is not None:
        return within(timeout, lambda: xcb_problem(xcb, display))
    return within(timeout, lambda: socket_problem(display))


def load_xcb() -> ctypes.CDLL | None:
    """libxcb with the three functions the probe calls, or None when it cannot be loaded."""
    name = ctypes.util.find_library(XCB_LIBRARY) or "libxcb.so.1"
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return None
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.restype = None
    return xcb


# xcb_connection_has_error's codes (xcb.h).
XCB_ERRORS = {
    1: "no X server answers there, or it refused the connection",
    2: "an X extension is not supported",
    3: "out of memory",
    4: "a request was too long",
    5: "the display name cannot be parsed",
    6: "no such screen on that display",
    7: "a file descriptor could not be passed",
}


def xcb_problem(xcb: ctypes.CDLL, display: str) -> str | None:
    """Connect and disconnect through libxcb; xcb_connect never returns NULL (it returns an
    error connection), but a NULL is treated as an error too."""
    connection = xcb.xcb_connect(display.encode(), None)
    if not connection:
        return XCB_ERRORS[1]
    try:
        code = xcb.xcb_connection_has_error(connection)
    finally:
        xcb.xcb_disconnect(connection)  # frees error connections too
    return None if code == 0 else XCB_ERRORS.get(code, f"xcb error {code}")


def socket_problem(display: str, socket_dir: str = X11_SOCKET_DIR) -> str | None:
    """Without libxcb: can a socket connect where the X server of `display` listens?"""
    host, number = parse_display(display)
    if number is None:
        return XCB_ERRORS[5]
    if host.startswith("/"):  # a full socket path (the display number follows it)
        unix_paths = [host]
    elif host in ("", "unix"):
        # Linux X servers listen on an abstract socket and on a file; xcb tries both.
        path = f"{socket_dir}/X{number}"
        unix_paths = ["\0" + path, path] if sys.platform.startswith("linux") else [path]
    else:
        unix_paths = []
    for path in unix_paths:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
            try:
                unix.connect(path)
                return None
            except OSError:
                continue
    if unix_paths and host:
        return XCB_ERRORS[1]  # "unix:N" asks for the local socket only
    try:
        with socket.create_connection((host or "localhost", X11_TCP_PORT + number)):
            return None
    except OSError:
        return XCB_ERRORS[1]


def parse_display(display: str) -> tuple[str, int | None]:
    """'[host]:number[.screen]' as (host, number); number None when it does not parse."""
    host, colon, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not colon or not number.isdigit():
        return host, None
    return host, int(number)


def within(timeout: float, probe: Callable[[], str | None]) -> str | None:
    """Run `probe` in a thread (ctypes and sockets release the GIL), giving up after
    `timeout` seconds: a daemon thread left waiting does not keep the process alive."""
    answer: list[str | None] = []

    def ask() -> None:
        try:
            answer.append(probe())
        except Exception:  # a probe that breaks must not keep the window from trying
            answer.append(None)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout)
    if not answer:
        return f"no answer within {timeout:g} s"
    return answer[0]
