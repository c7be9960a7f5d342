"""Tracebacks of failed pipeline threads, appended to a log file that the one-line error names.

A thread that died of a bug used to leave only `KeyError: 'x'` behind unless -v was given;
its full traceback now goes to errors.log in the user's state folder, ready to be reported.
User errors (LivestyleError) say all there is in their one line and get no traceback.
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import sys
import threading
import traceback
from pathlib import Path

from livestyle import __version__
from livestyle.core.errors import LivestyleError

log = logging.getLogger(__name__)

STATE_DIR_ENV = "LIVESTYLE_STATE_DIR"  # overrides the folder (tests, portable setups)
ERROR_LOG_NAME = "errors.log"

# Capture and inference can fail at the same moment: one report at a time in the file.
_write_lock = threading.Lock()


def _home() -> Path:
    home = Path.home()
    if not home.is_absolute():  # no HOME and no passwd entry: "~" would land in the cwd
        raise RuntimeError("no home folder")
    return home


def state_dir() -> Path:
    """The per-user folder for livestyle's logs, as each platform names it."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "darwin":
        return _home() / "Library" / "Logs" / "livestyle"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else _home() / "AppData" / "Local") / "livestyle" / "Logs"
    xdg = os.environ.get("XDG_STATE_HOME")
    # The XDG spec says a relative path there is invalid and must be ignored.
    base = Path(xdg) if xdg and os.path.isabs(xdg) else _home() / ".local" / "state"
    return base / "livestyle"


def error_log_path() -> Path:
    return state_dir() / ERROR_LOG_NAME


def crash_report(exc: BaseException, thread: str) -> str:
    """The traceback with what it takes to read it: when, which thread, which versions."""
    torch = sys.modules.get("torch")  # loaded by then; never imported here just to ask
    when = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    header = (
        f"--- {when}, thread {thread}: livestyle {__version__}, "
        f"Python {platform.python_version()}, torch {getattr(torch, '__version__', '?')}, "
        f"{platform.platform()}"
    )
    body = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return f"{header}\n{body}\n"


def keep_traceback(exc: BaseException, thread: str) -> Path | None:
    """Append exc's traceback to the error log. Returns the log's path, or None for a user
    error or when the log cannot be written (a read-only home): the one line still appears."""
    if isinstance(exc, LivestyleError):
        return None
    try:
        path = error_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        report = crash_report(exc, thread)
        with _write_lock, path.open("a", encoding="utf-8") as file:
            file.write(report)
    except (OSError, RuntimeError) as err:
        log.debug("cannot write the error log: %s", err)
        return None
    return path


def error_line(text: str, error_log: Path | None) -> str:
    """The one line a failed run ends with, naming the file that holds the traceback."""
    details = f" (details: {error_log})" if error_log is not None else ""
    return f"livestyle: error: {text}{details}"
