"""Adding a painting to the running app: `livestyle train --add-to` in a child process.

A painting dropped on the window becomes one more style of the network on screen: a child
process trains only the new style's norm parameters (a few KB; the body and the other styles
stay bit for bit) while the live view goes on, and the grown network then replaces the one
it grew from, the new style selected. A child process, not a thread: training gets its own
interpreter (no GIL shared with the frames), its own lower CPU priority, and a cancel is a
kill that cannot leave the app's state half-changed.

Nothing half-written ever reaches the styles folder: the child writes into a private temp
folder; only a child that finished and a file that reads back are copied next to the styles
under a hidden name and renamed into place (one atomic step); a cancel or a failure removes
the temp folder. The grown file goes to the user's styles folder (the package's may be
read-only), where it replaces the file it grew from (weights.superseded).

What the child trains on: --train-data, else the user's Pictures folder when it holds some
photos; with neither, the drop says so and starts nothing.
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
from dataclasses import dataclass
from pathlib import Path

import torch

import livestyle
from livestyle.core.outputs import WholeFile
from livestyle.engines.device import preferred_variant
from livestyle.live.pipeline import Pipeline
from livestyle.stylizer import Stylizer
from livestyle.video.files import IMAGE_SUFFIXES, decode_image
from livestyle.weights import (
    WeightsError,
    default_style_dirs,
    file_stem,
    live_styles,
    load_styles,
    read_style_infos,
    scan_styles,
    user_styles_dir,
)

log = logging.getLogger(__name__)

# Norm rows only: a few hundred steps reach the painting (README, "Train your own style":
# --add-to ... --steps 400). On a CPU 192 px crops as the shipped recipe; the time box keeps
# a slow machine from training for an hour (the style is saved as it is then).
CPU_STEPS, GPU_STEPS = 400, 1000
CPU_SIZE, GPU_SIZE = 192, 256
BATCH = 4
TIME_BOX_MINUTES = 10.0
# A Pictures folder may hold thousands of photos; the child decodes at most this many.
MAX_PHOTOS = 200
# Fewer photos than this in the Pictures folder: not worth guessing that it is a data set.
MIN_PHOTOS = 4
# Files looked at when checking a folder for photos, so a drop never hangs on a huge tree.
MAX_FILES_CHECKED = 20_000
# The child runs this much nicer than the app: the live view keeps priority, training gets
# what it leaves (the overlay's frame rate shows the cost).
CHILD_NICENESS = 10
RESULT_SECONDS = 8.0  # how long "added ..." or "... failed: why" stays in the overlay

# What the overlay shows: (text, kind), kind one of "progress", "done", "error", "info".
Message = tuple[str, str]


# ----------------------------------------------------------------------------- what to train on


def pictures_dir() -> Path:
    """The user's Pictures folder ($XDG_PICTURES_DIR where set)."""
    return Path(os.environ.get("XDG_PICTURES_DIR") or Path.home() / "Pictures")


def count_photos(folder: Path, enough: int) -> int:
    """Image files under `folder`, counted up to `enough` (a drop must not walk a whole disk)."""
    found = seen = 0
    for _root, _dirs, files in os.walk(folder):
        for name in files:
            seen += 1
            found += Path(name).suffix.lower() in IMAGE_SUFFIXES
            if found >= enough or seen >= MAX_FILES_CHECKED:
                return found
    return found


def photo_folder(given: Path | None) -> Path:
    """The photos to train on: `given` (--train-data), else the Pictures folder when it holds
    a few; a ValueError says in one line what to do when there are none."""
    if given is not None:
        if not given.is_dir() or count_photos(given, 1) == 0:
            raise ValueError(f"no photos in --train-data {given}")
        return given
    pictures = pictures_dir()
    if pictures.is_dir() and count_photos(pictures, MIN_PHOTOS) >= MIN_PHOTOS:
        return pictures
    raise ValueError(
        f"no photos to train on: start livestyle with --train-data PHOTOS_DIR "
        f"(or put some photos in {pictures})"
    )


def style_name(painting: Path, taken: set[str]) -> str:
    """The new style's name: the file's name as a style name, made unique."""
    base = file_stem(painting.stem, "painting").lower()
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def grown_path(base: Path, styles_dir: Path) -> Path:
    """Where the grown network goes: the user's folder under the base's file name (which
    replaces a user copy in place), or a free name when another file has that one."""
    path = styles_dir / base.name
    stem, rest = base.name.split(".", 1)
    n = 1
    while path.exists() and path.resolve() != base.resolve():
        n += 1
        path = styles_dir / f"{stem}-{n}.{rest}"
    return path


# ----------------------------------------------------------------------------- the child


@dataclass(frozen=True)
class TrainSettings:
    """How the child trains: its share of the machine and its length."""

    threads: int
    device: str = "cpu"
    steps: int = CPU_STEPS
    size: int = CPU_SIZE
    max_minutes: float = TIME_BOX_MINUTES

    @classmethod
    def for_stylizer(cls, stylizer: Stylizer) -> TrainSettings:
        """On the live view's GPU when it has one (norm rows train in seconds there), else
        on the CPU cores the live view leaves."""
        if stylizer.device.type == "cuda":
            device = str(stylizer.device)
            return cls(spare_cores(stylizer), device, GPU_STEPS, GPU_SIZE)
        return cls(spare_cores(stylizer))


def spare_cores(stylizer: Stylizer) -> int:
    """The cores the live view leaves: all but its network's threads and one for capture and
    display (on a GPU: one feeding it, one for the rest). The ONNX engine takes all cores
    but one, so on a CPU this is 1: the child then trains on one thread at low priority."""
    cores = os.cpu_count() or 1
    if stylizer.device.type != "cpu":
        return max(1, cores - 2)
    network = getattr(stylizer.engine, "threads", None) or torch.get_num_threads()
    return max(1, cores - network - 1)


@dataclass(frozen=True)
class Request:
    """One painting to add: to which network, under which name, trained on what."""

    painting: Path
    name: str
    base: Path  # the network file it grows
    variant: str
    order: int  # after every style there is: the next key
    data: Path
    dest: Path  # where the grown network goes


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


PROGRESS = re.compile(r"^progress (\d+) (\d+)$")


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
        command: Callable[[Request, TrainSettings, Path], list[str]] = train_command,
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
        flags = getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)  # Windows only
        try:
            self._proc = subprocess.Popen(
                self._command(self.request, self.settings, self.out),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # one reader; errors come in order with progress
                text=True,
                encoding="utf-8",
                errors="replace",
                env=child_env(self.settings.threads),
                creationflags=flags,
            )
        except OSError:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        lower_priority(self._proc.pid)
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
        try:
            assert self._proc is not None and self._proc.stdout is not None
            for line in self._proc.stdout:
                self._read(line.strip())
            code = self._proc.wait()
            if code != 0:
                self._fail(self.last_line or f"training stopped with exit code {code}")
            else:
                self._install()
        except Exception as exc:  # never lost with the thread: the overlay says it
            log.exception("adding %s failed", self.request.name)
            self._fail(str(exc) or type(exc).__name__)
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)
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
        names = [info.name for info in read_style_infos(self.out)]  # reads back, or raises
        if self.request.name not in names:
            raise WeightsError(f"{self.out.name} lacks the style {self.request.name}")
        whole = WholeFile(self.request.dest)  # a hidden name: never scanned as a style
        try:
            shutil.copyfile(self.out, whole.temporary)
            with self._lock:
                if self.state != "running":
                    return
                whole.commit()
                self.state = "installing"
        finally:
            whole.discard()  # nothing left once committed

    def _finish(self) -> None:
        try:
            self.on_installed(self)
            self.state = "done"
        except Exception as exc:
            log.exception("loading the grown network failed")
            self.state, self.error = "failed", f"{self.request.dest.name}: {exc}"


class StyleAdder:
    """What the window asks for: add a dropped painting, cancel, and the overlay's line.

    `dirs` and `variant` are where the app found its styles and which variant it prefers, so
    the reload after a success finds the same styles plus the grown network.
    """

    def __init__(
        self,
        stylizer: Stylizer,
        dirs: list[Path],
        variant: str,
        data: Path | None = None,
        styles_dir: Path | None = None,
        settings: TrainSettings | None = None,
        command: Callable[[Request, TrainSettings, Path], list[str]] = train_command,
        live_fps: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.stylizer = stylizer
        self.dirs, self.variant, self.data = dirs, variant, data
        self.styles_dir = styles_dir or user_styles_dir()
        self.settings = settings or TrainSettings.for_stylizer(stylizer)
        self._command = command
        self.live_fps = live_fps
        self.fps_before = 0.0  # the view's rate when training started: the cost's yardstick
        self.job: AddJob | None = None
        self._note: tuple[Message, float] | None = None  # a one-off line and until when

    @classmethod
    def for_pipeline(cls, pipeline: Pipeline, args: object) -> StyleAdder:
        """The adder for a live run: its styles folders, variant and --train-data, and the
        pipeline's frame rate to compare with while training runs."""
        stylizer = pipeline.stylizer
        dirs = [*getattr(args, "styles_dir", []), *default_style_dirs()]
        variant = preferred_variant(stylizer.device, getattr(args, "variant", "auto"))
        data = getattr(args, "train_data", None)
        return cls(stylizer, dirs, variant, data, live_fps=lambda: pipeline.stats.fps)

    def drop(self, paths: list[Path]) -> AddJob | None:
        """Files dropped on the window: the first is the painting to add."""
        if not paths:
            self._say("drop a painting's file (a picture on a web page: save it first)", "error")
            return None
        return self.add(paths[0])

    @property
    def busy(self) -> bool:
        return self.job is not None and self.job.state in ("running", "installing")

    def add(self, painting: Path) -> AddJob | None:
        """Start adding `painting`; when that cannot start, the overlay says why (one line)."""
        try:
            request = self._request(painting)
        except ValueError as exc:
            self._say(str(exc), "error")
            return None
        job = AddJob(request, self.settings, self._reload, self._command)
        try:
            job.start()
        except OSError as exc:
            self._say(f"cannot start training: {exc}", "error")
            return None
        self.job, self._note = job, None
        self.fps_before = self.live_fps()
        log.info(
            "adding %s to %s: %d steps on %s, %d thread(s), data %s",
            request.name, request.base.name, self.settings.steps, self.settings.device,
            self.settings.threads, request.data,
        )  # fmt: skip
        return self.job

    def _request(self, painting: Path) -> Request:
        """Everything the child needs, checked now: a ValueError is the overlay's line."""
        if self.busy:
            raise ValueError(f"already adding {self.job.request.name} (X cancels it)")
        if not painting.is_file():
            raise ValueError(f"cannot add {painting.name}: not a file")
        if decode_image(painting) is None:
            raise ValueError(f"cannot add {painting.name}: not an image livestyle can read")
        active = self.stylizer.active
        if active.path is None:
            raise ValueError("the style on screen has no file to add to")
        styles = [style.info for style in self.stylizer.styles]
        taken = {info.name for info in styles}
        try:
            taken |= {info.name for info in read_style_infos(active.path)}
        except WeightsError as exc:
            raise ValueError(str(exc)) from exc
        return Request(
            painting=painting,
            name=style_name(painting, taken),
            base=active.path,
            variant=active.variant,
            order=max(info.order for info in styles) + 1,
            data=photo_folder(self.data),
            dest=grown_path(active.path, self.styles_dir),
        )

    def _reload(self, job: AddJob) -> None:
        """The styles as the app found them at start, now with the grown network; then the
        new style on screen (watcher thread: the stylizer swaps between frames)."""
        found = scan_styles(self.dirs, prefer_variant=self.variant)
        styles = load_styles(live_styles(found, self.variant))
        self.stylizer.replace_styles(styles)
        self.stylizer.select(self.stylizer.find(job.request.name))

    def cancel(self) -> bool:
        """X: stop adding; the overlay says what happened."""
        if self.job is None or not self.job.cancel(wait=5.0):
            self._say("nothing to cancel", "info")
            return False
        self._say(f"cancelled adding {self.job.request.name}", "info")
        return True

    def shutdown(self) -> None:
        """The app is closing: a running child is killed, its temp folder removed."""
        if self.job is not None:
            self.job.cancel(wait=5.0)

    def _say(self, text: str, kind: str) -> None:
        self._note = ((text, kind), time.monotonic() + RESULT_SECONDS)

    def line(self) -> Message | None:
        """The overlay's line: a job's progress or its end, or the last refusal."""
        now = time.monotonic()
        if self._note is not None and now < self._note[1]:
            return self._note[0]
        job = self.job
        if job is None or job.state == "cancelled":
            return None
        if job.ended is not None and now > job.ended + RESULT_SECONDS:
            return None
        return self._job_line(job)

    def _job_line(self, job: AddJob) -> Message:
        name = job.request.name
        if job.state == "running":
            done = f"{job.fraction:.0%}" if job.total else "starting"
            # The overlay's fps line shows what training costs the picture; this the before.
            before = f", {self.fps_before:.1f} fps before" if self.fps_before > 0 else ""
            return f"adding {name}: {done} (X cancels{before})", "progress"
        return end_line(job, self.stylizer)


def end_line(job: AddJob, stylizer: Stylizer) -> Message:
    """What the overlay says once a job has stopped running."""
    name = job.request.name
    if job.state == "installing":
        return f"adding {name}: loading", "progress"
    if job.state == "failed":
        return f"adding {name} failed: {job.error}", "error"
    try:
        index = stylizer.find(name)
    except KeyError:  # not shown on this device (a standard network on a CPU)
        return f"added {name} to {job.request.dest.name}", "done"
    where = f"key {index + 1}" if index < 9 else f"style {index + 1}, → / N"
    return f"added {name}: {where}", "done"
