"""Adding a painting to the running app: what the live session asks for.

A painting dropped on the window becomes one more style of the network on screen: a child
process (job.py) trains only the new style's norm parameters (a few KB; the body and the
other styles stay bit for bit) while the live view goes on, and the grown network then
replaces the one it grew from (install.py), the new style selected. A cancel or a failure
leaves nothing behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from livestyle.addstyle.install import reload_with
from livestyle.addstyle.job import AddJob, Command, train_command
from livestyle.addstyle.options import AdderOptions, TrainSettings
from livestyle.addstyle.request import Request, grown_path, photo_folder, style_name
from livestyle.core.errors import WeightsError
from livestyle.discovery import default_style_dirs, user_styles_dir
from livestyle.engines.device import preferred_variant
from livestyle.stylizer import Stylizer
from livestyle.video.files import decode_image
from livestyle.weights import read_style_infos

log = logging.getLogger(__name__)

RESULT_SECONDS = 8.0  # how long "added ..." or "... failed: why" stays in the overlay

# What the overlay shows: (text, kind), kind one of "progress", "done", "error", "info".
Message = tuple[str, str]


class StyleAdder:
    """Add a dropped painting, cancel, and the overlay's line about it.

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
        command: Command = train_command,
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
    def for_live(
        cls, stylizer: Stylizer, options: AdderOptions, live_fps: Callable[[], float]
    ) -> StyleAdder:
        """The adder for a live run: its styles folders, variant and --train-data, and the
        live view's frame rate to compare with while training runs (the adder knows nothing
        of the pipeline: the live session above both wires them)."""
        dirs = [*options.styles_dirs, *default_style_dirs()]
        variant = preferred_variant(stylizer.device, options.variant)
        return cls(stylizer, dirs, variant, options.train_data, live_fps=live_fps)

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
        reload_with(self.stylizer, self.dirs, self.variant, job.request.name)

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
