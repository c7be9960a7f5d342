"""One `livestyle train --add-to` child: its command line, its start, its progress, its end.

A child process, not a thread: training gets its own interpreter (no GIL shared with the
frames), its own lower CPU priority, and a cancel is a kill that cannot leave the app's
state half-changed. The child writes into a private temp folder, removed whatever happens;
only a child that finished leaves a file for install.py.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import livestyle
from livestyle.addstyle.install import staged
from livestyle.addstyle.options import BATCH, TrainSettings
from livestyle.addstyle.request import Request

log = logging.getLogger(__name__)

# A Pictures folder may hold thousands of photos; the child decodes at most this many.
MAX_PHOTOS = 200
# The child runs this much nicer than the app: the live view keeps priority, training gets
# what it leaves (the overlay's frame rate shows the cost).
CHILD_NICENESS = 10
PROGRESS = re.compile(r"^progress (\d+) (\d+)$")

Command = Callable[[Request, TrainSettings, Path], list[str]]


def train_command(request: Request, settings: TrainSettings, out: Path) -> list[str]:
    """`livestyle train --add-to` for this request, writing to `out` (in the temp folder)."""
    return [
        sys.executable, "-m", "livestyle", "train",
        "--style-image", str(request.painting), "--name", request.name,
        "--add-to", str(request.base), "--variant", request.variant,
        "--order", str(request.order),
        "--data", str(request.data), "--max-photos", str(MAX_PHOTOS),
        "--steps", str(settings.steps), "--size", str(settings.size),
        "--batch", str(BATCH), "--max-minutes", f"{settings.max_minutes:g}",
        "--threads", str(settings.threads), "--device", settings.device,
        "--out", str(out), "--run-dir", str(out.parent / "run"),
        "--preview-every", "0", "--checkpoint-every", "0", "--progress", "lines",
    ]  # fmt: skip


def child_env(threads: int) -> dict[str, str]:
    """The app's environment, this very livestyle first on the path (a checkout or another
    install must not answer `-m livestyle`), and the thread count for OpenMP as well."""
    root = str(Path(livestyle.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONPATH": root + (os.pathsep + path if path else ""),
        "OMP_NUM_THREADS": str(threads),
    }


def lower_priority(pid: int) -> None:
    """Make the child nicer than the app (POSIX; on Windows it starts below normal)."""
    if not hasattr(os, "setpriority"):
        return
    try:
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, pid, min(19, mine + CHILD_NICENESS))
    except OSError as exc:  # it already ended, or a system that refuses: train at our level
        log.debug("could not lower the training's priority: %s", exc)


def start_child(argv: list[str], threads: int) -> subprocess.Popen[str]:
    """The child, its output and errors on one pipe, nicer than the app."""
    flags = getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)  # Windows only
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one reader; errors come in order with progress
        text=True,
        encoding="utf-8",
        errors="replace",
        env=child_env(threads),
        creationflags=flags,
    )
    lower_priority(proc.pid)
    return proc


class AddJob:
    """One child run adding one painting: its progress, its end, and the file it leaves.

    States: running -> installing -> done, or failed, or cancelled. The watcher thread reads
    the child's output, and when it ends installs the file and calls `on_installed` (which
    reloads the styles), all off the GUI thread.
    """

    def __init__(
        self,
        request: Request,
        settings: TrainSettings,
        on_installed: Callable[[AddJob], None] = lambda job: None,
        command: Command = train_command,
    ) -> None:
        self.request, self.settings = request, settings
        self.on_installed = on_installed
        self._command = command
        self.state = "running"
        self.step = self.total = 0
        self.last_line = ""  # the child's last line other than progress: its error, if it fails
        self.error = ""
        self.started = time.monotonic()
        self.ended: float | None = None  # when it was done or failed
        self._lock = threading.Lock()
        self._tmp: Path | None = None  # the child's own folder, made by start()
        self.out = Path(request.dest.name)  # the child's file, in that folder once started
        self._proc: subprocess.Popen[str] | None = None
        self._watcher = threading.Thread(target=self._watch, name="livestyle-add", daemon=True)

    def start(self) -> None:
        """Start the child (an OSError when it cannot start: nothing is left behind)."""
        self._tmp = Path(tempfile.mkdtemp(prefix="livestyle-add-"))
        self.out = self._tmp / self.request.dest.name
        try:
            argv = self._command(self.request, self.settings, self.out)
            self._proc = start_child(argv, self.settings.threads)
        except OSError:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        self._watcher.start()

    @property
    def fraction(self) -> float:
        """How far along: steps done, or the time box used when that is further."""
        steps = self.step / self.total if self.total else 0.0
        box = (time.monotonic() - self.started) / (self.settings.max_minutes * 60)
        return min(0.99, max(steps, box)) if self.state == "running" else 1.0

    def cancel(self, wait: float | None = None) -> bool:
        """Stop the child and remove what it wrote; False when it is past that (installed,
        failed or cancelled already)."""
        with self._lock:
            if self.state != "running":
                return False
            self.state = "cancelled"
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()  # it writes only into the temp folder: nothing to save
        if wait is not None and self._watcher.is_alive():
            self._watcher.join(wait)
        return True

    # --- the watcher thread ---
    def _watch(self) -> None:
        failure: str | None = None
        try:
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                self._read(line.strip())
            code = self._proc.wait()
            if code != 0:
                failure = self.last_line or f"training stopped with exit code {code}"
            else:
                self._install()
        except Exception as exc:  # never lost with the thread: the overlay says it
            log.exception("adding %s failed", self.request.name)
            failure = str(exc) or type(exc).__name__
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
        # The job ends only once its temp folder is gone: whoever sees it failed (or done)
        # finds nothing left behind (a failure said first raced the removal in CI).
        if failure is not None:
            self._fail(failure)
        if self.state == "installing":
            self._finish()
        self.ended = time.monotonic()

    def _read(self, line: str) -> None:
        match = PROGRESS.match(line)
        if match:
            self.step, self.total = int(match[1]), int(match[2])
        elif line:
            self.last_line = re.sub(r"^livestyle: (error: )?", "", line)
            log.debug("train: %s", line)

    def _fail(self, message: str) -> None:
        with self._lock:
            if self.state in ("running", "installing"):  # a cancel is not a failure
                self.state, self.error = "failed", message

    def _install(self) -> None:
        """The child's file into the styles folder in one rename, unless cancelled first."""
        with staged(self.out, self.request) as whole, self._lock:
            if self.state == "running":
                whole.commit()
                self.state = "installing"

    def _finish(self) -> None:
        try:
            self.on_installed(self)
            self.state = "done"
        except Exception as exc:
            log.exception("loading the grown network failed")
            self.state, self.error = "failed", f"{self.request.dest.name}: {exc}"
