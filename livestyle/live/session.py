"""One live session: the pipeline, its stylizer and the style adder behind the controls a
window offers (styles, strength, view, pause, snapshot, recording, virtual camera, a dropped
painting) and the state it reports, as plain values.

No Qt here: the window turns key presses into these calls and draws `state()`; everything a
control does, and every message it leaves for the overlay, can be tested without a window.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from livestyle.addstyle import StyleAdder
from livestyle.brushwork import next_marks
from livestyle.core.crashlog import error_line
from livestyle.core.errors import LivestyleError, error_text
from livestyle.core.outputs import new_file_in, written_aside
from livestyle.live.inference import StylizedFrame
from livestyle.live.pipeline import Pipeline
from livestyle.live.thumbnails import Thumbnail
from livestyle.video.files import write_image

log = logging.getLogger(__name__)

STRENGTH_STEP = 0.1  # one + or − press
TOAST_SECONDS = 2.0
FAILURE_TOAST_SECONDS = 8.0  # a failed snapshot or recording: long enough to read the why
MAX_TOASTS = 3
RECENT_FRAMES = 30  # latency/inference figures are medians over this many frames

# A message for the overlay: (text, kind). A toast's kind is "info", "warning" or "error";
# the adder's line also says "progress" or "done".
Notice = tuple[str, str]


class ViewMode(Enum):
    """What the window shows (and a snapshot saves): the stylized frame, the camera's, or
    both side by side."""

    STYLIZED = "stylized"
    ORIGINAL = "original"
    SPLIT = "split"

    def next(self) -> ViewMode:
        modes = list(ViewMode)
        return modes[(modes.index(self) + 1) % len(modes)]


@dataclass(frozen=True)
class SessionState:
    """The session at one moment, as plain values: what the overlay reports."""

    style_name: str = ""
    style_index: int = 0  # 0-based; keys 1-9 pick the first nine
    painting: tuple[str, ...] = ()  # title, artist, year; empty parts are left out
    strength: float = 1.0
    strength_changed: bool = False  # + or − was pressed a moment ago
    view: ViewMode = ViewMode.STYLIZED
    preserve_color: bool = False  # C: the frame's own colours, the painting's brushwork
    marks: float = 0.0  # B: the network's marks made bolder (livestyle.brushwork)
    steady: bool = True  # T: smoothed over time where the picture stands still
    fps: float = 0.0  # the pipeline's rate over its last frames
    last_frame_age: float | None = None  # seconds since the last stylized frame, if any
    latency_ms: float | None = None
    inference_ms: float | None = None
    net_long_side: int | None = None  # the network input's long side for the frames shown
    net_auto: bool = False  # that size follows the machine (livestyle.live.adaptive)
    paused: bool = False
    recording_for: float | None = None  # seconds since the recording started; None: none
    virtual_cam: bool = False  # the stream also goes to a virtual webcam
    audio: bool = False  # M: the next recording has sound from the microphone
    saving: tuple[str, ...] = ()  # names of stopped recordings still being finalized
    error: str | None = None  # the pipeline's failure, one line
    ended: bool = False  # the source ended
    status: str = ""  # the pipeline's status ("camera lost, retrying"...)
    toasts: tuple[Notice, ...] = ()
    toast_seconds_left: tuple[float, ...] = ()  # each toast's time left (the overlay fades it)
    blend: tuple[tuple[str, float], ...] = ()  # a blend's styles and weights; () for one style
    task: Notice | None = None  # adding a dropped painting: its progress, end or refusal


def recent_median(values: Iterable[float], count: int = RECENT_FRAMES) -> float | None:
    data = list(values)[-count:]
    return float(np.median(data)) if data else None


def snapshot_stem() -> str:
    return f"livestyle-{time.strftime('%Y%m%d-%H%M%S')}"


class LiveSession:
    """The one owner of a live run's pipeline, stylizer and style adder.

    `start` connects the display's sinks and starts the threads, `tick` (a few times a
    second) follows what the threads did, `shutdown` stops everything exactly once.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        out_dir: Path = Path("."),
        record: Path | None = None,
        adder: StyleAdder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pipeline = pipeline
        self._clock = clock  # the session's own times: toasts, strength line, recording
        self.stylizer = pipeline.stylizer
        self.adder = adder  # a painting dropped on the window becomes a style (addstyle)
        self.out_dir = Path(out_dir)
        self.record = record
        self.view = ViewMode.STYLIZED
        self.ended = False
        self._toasts: list[tuple[Notice, float]] = []  # and when each goes
        self._rec_since: float | None = None
        self._saving: list[Path] = []  # stopped recordings whose files are being finalized
        self._strength_changed_until = 0.0  # the strength line shows a while after a change
        self._started = False
        self._stopped = False
        self._error_logged = False
        # A virtual camera that fails says why in a toast that goes, not in the pipeline's
        # status, which stayed on screen until the next V press. Its thread reports; the
        # next tick toasts (a deque, as both threads touch it).
        self._camera_failures: deque[str] = deque()
        pipeline.virtual_cam.on_error = self._camera_failures.append

    # --- lifecycle ---
    def start(
        self,
        on_frame: Callable[[StylizedFrame], None],
        on_thumbnail: Callable[[Thumbnail], None],
    ) -> None:
        """Send frames and thumbnails to the display, start recording if asked, start the
        pipeline's threads."""
        if self._started:
            return
        self._started = True
        self.pipeline.add_sink(on_frame)
        self.pipeline.add_thumbnail_sink(on_thumbnail)
        if self.record is not None:
            self.start_recording(self.record)
        self.pipeline.start()

    def shutdown(self) -> None:
        """Stop the pipeline (joins threads, finalizes a recording) the first time only."""
        if self._stopped:
            return
        self._stopped = True
        if self.adder is not None:
            self.adder.shutdown()  # a training child is killed, nothing of it is kept
        self.pipeline.stop()
        self._rec_since = None
        self._check_error()

    def tick(self) -> None:
        """Follow the threads: recordings started or ended elsewhere, the source's end."""
        self._sync_recording()
        if self._started and not self.ended and not self.pipeline.running:
            self.ended = True  # the source ended or a thread failed; the last frame stays
            if not self._check_error():
                log.info("source ended")
        while self._camera_failures:
            self.toast(self._camera_failures.popleft(), "error")
        now = self._clock()
        self._toasts = [(notice, until) for notice, until in self._toasts if until > now]

    def exit_code(self, signal_received: int | None) -> int:
        """1 if the pipeline failed, 128 + signal number if a signal ended us, else 0."""
        if self.pipeline.error is not None:
            return 1
        if signal_received is not None:
            return 128 + signal_received
        return 0

    def summary(self) -> str:
        """The run in one line, as headless prints it."""
        return self.pipeline.summary()

    def error_lines(self) -> list[str]:
        """What a failure leaves on stderr at the end, as headless does: not only on screen."""
        pipeline, lines = self.pipeline, []
        if pipeline.error is not None:
            lines.append(error_line(error_text(pipeline.error), pipeline.error_log))
        if pipeline.recording_error is not None:
            lines.append(error_line(pipeline.recording_error, pipeline.error_log))
        return lines

    def _check_error(self) -> bool:
        error = self.pipeline.error
        if error is not None and not self._error_logged:
            self._error_logged = True
            log.error("pipeline failed: %s", error)
        return error is not None

    # --- styles ---
    @property
    def style_names(self) -> list[str]:
        return [style.info.name for style in self.stylizer.styles]

    @property
    def style_index(self) -> int:
        return self.stylizer.index

    def next_style(self) -> None:
        self.stylizer.step(1)

    def previous_style(self) -> None:
        self.stylizer.step(-1)

    def pick_style(self, index: int) -> None:
        """Show style `index` (0-based); one that does not exist is ignored."""
        if 0 <= index < len(self.stylizer.styles):
            self.stylizer.select(index)

    def strength_up(self) -> None:
        self._change_strength(STRENGTH_STEP)

    def strength_down(self) -> None:
        self._change_strength(-STRENGTH_STEP)

    def _change_strength(self, delta: float) -> None:
        steps = round((self.stylizer.strength + delta) / STRENGTH_STEP)
        self.stylizer.strength = steps * STRENGTH_STEP
        # One line that updates in place (no toast per key press, which stacked up).
        self._strength_changed_until = self._clock() + TOAST_SECONDS

    def toggle_preserve_color(self) -> None:
        self.stylizer.preserve_color = not self.stylizer.preserve_color  # the overlay says so

    def cycle_marks(self) -> None:
        self.stylizer.marks = next_marks(self.stylizer.marks)  # the overlay says how bold

    # --- the picture ---
    def cycle_view(self) -> None:
        self.view = self.view.next()  # the overlay names the view when it is not the default

    def toggle_steady(self) -> None:
        self.pipeline.steady = not self.pipeline.steady  # the overlay says when it is off

    def toggle_pause(self) -> None:
        self.pipeline.toggle_pause()

    def show_thumbnails(self, on: bool) -> None:
        """The style strip shows or hides: the inference thread makes thumbnails only while
        it shows."""
        self.pipeline.show_thumbnails(on)

    def toggle_virtual_cam(self) -> None:
        """Send the stream to the virtual webcam, or stop; a device that cannot open says
        why in a toast."""
        on = self.pipeline.toggle_virtual_cam()
        self.toast("virtual camera on" if on else "virtual camera off")

    def toggle_audio(self) -> None:
        """Sound from the microphone on or off for the next recording (one going on keeps
        what it has)."""
        device = self.pipeline.audio_device
        if self.pipeline.toggle_audio():
            self.toast(f"sound on for the next recording ({device})")
        elif device is None:
            self.toast("no default microphone here: start with --audio DEVICE", "warning")
        else:
            self.toast("sound off for the next recording")

    # --- snapshots and recordings ---
    def save_snapshot(self, image: np.ndarray | None) -> Path | None:
        """Write `image` (the view's pixels) to out_dir as a timestamped PNG; a toast says
        where, or why not."""
        if image is None:
            self.toast("no frame to save yet", "warning")
            return None
        target = new_file_in(self.out_dir, f"{snapshot_stem()}.png")
        try:
            with written_aside(target) as aside:  # never half a PNG under the snapshot's name
                write_image(aside.partial, image)
        except (LivestyleError, OSError) as exc:  # "cannot write PATH: Not a directory"
            reason = str(exc) if isinstance(exc, LivestyleError) else f"{target}: {exc}"
            log.error("could not save snapshot: %s", reason)  # on stderr too
            self.toast(f"could not save snapshot: {reason}", "error")
            return None
        log.info("saved snapshot %s", aside.path)
        self.toast(f"saved snapshot {aside.path}")
        return aside.path

    def toggle_recording(self) -> Path | None:
        """Start a timestamped recording in out_dir, or stop and finalize the current one."""
        return self.stop_recording() if self.pipeline.recording else self.start_recording()

    def start_recording(self, path: Path | None = None) -> Path | None:
        try:
            target = self.pipeline.start_recording(path)
        except (LivestyleError, OSError) as exc:
            log.error("cannot record: %s", exc)
            self.toast(f"cannot record: {exc}", "error")
            return None
        self._rec_since = self._clock()
        self.toast(f"recording to {target}")
        return target

    def stop_recording(self) -> Path | None:
        """Stop at once; the recorder thread finalizes the file while "saving..." shows."""
        path = self.pipeline.stop_recording()
        self._rec_since = None
        if path is not None:
            self._saving.append(path)
            self._sync_recording()  # a recording that never started is done already
        return path

    def _sync_recording(self) -> None:
        """Follow recordings started elsewhere or ended by a writer error; say when a stopped
        recording's file is finalized."""
        if not self.pipeline.recording:
            self._rec_since = None
        elif self._rec_since is None:
            self._rec_since = self._clock()
        saving = self.pipeline.saving
        for path in [p for p in self._saving if p not in saving]:
            self._saving.remove(path)
            recorder = next((r for r in self.pipeline.recordings if r.path == path), None)
            if recorder is not None and recorder.error is not None:
                continue  # the pipeline's status says why it stopped and what the file holds
            saved = recorder.saved if recorder is not None else None
            if saved is not None and saved.path is not None:
                self.toast(f"saved recording {saved.path} ({saved.frames} frames)")
            else:
                self.toast("recording stopped: no frames were recorded", "warning")

    # --- a dropped painting ---
    @property
    def accepts_paintings(self) -> bool:
        return self.adder is not None

    def add_painting(self, paths: list[Path]) -> None:
        """Files dropped on the window: the first becomes a style (the overlay says how)."""
        if self.adder is not None:
            self.adder.drop(paths)

    def cancel_adding(self) -> None:
        """Stop adding a dropped painting (the overlay says so)."""
        if self.adder is None:
            self.toast("nothing to cancel")
        else:
            self.adder.cancel()

    # --- what the overlay reports ---
    def toast(self, message: str, kind: str = "info") -> None:
        """A message shown for a couple of seconds; a failure (a warning or an error) for
        longer, to be read."""
        seconds = TOAST_SECONDS if kind == "info" else FAILURE_TOAST_SECONDS
        kept = self._toasts[-(MAX_TOASTS - 1) :]
        self._toasts = [*kept, ((message, kind), self._clock() + seconds)]

    def state(self) -> SessionState:
        """This moment's session and pipeline state."""
        now = self._clock()
        style = self.stylizer.active
        stats = self.pipeline.stats
        ready_at = stats.last_ready_at  # the inference thread's clock
        error = self.pipeline.error
        saving = self.pipeline.saving
        toasts = [(notice, until) for notice, until in self._toasts if until > now]
        return SessionState(
            style_name=style.name,
            style_index=self.stylizer.index,
            painting=(style.title, style.artist, style.year),
            strength=self.stylizer.strength,
            strength_changed=now < self._strength_changed_until,
            view=self.view,
            preserve_color=self.stylizer.preserve_color,
            marks=self.stylizer.marks,
            steady=self.pipeline.steady,
            fps=stats.fps,
            last_frame_age=None if ready_at is None else time.monotonic() - ready_at,
            latency_ms=recent_median(stats.latency_ms),
            inference_ms=recent_median(stats.inference_ms),
            net_long_side=self._net_long_side(),
            net_auto=self.pipeline.adapting,
            paused=self.pipeline.paused,
            recording_for=None if self._rec_since is None else now - self._rec_since,
            virtual_cam=self.pipeline.virtual_cam_on,
            audio=self.pipeline.audio_on,
            saving=tuple(p.name for p in self._saving if p in saving),
            error=None if error is None else self._error_text(error),
            ended=self.ended,
            status=self.pipeline.status,
            toasts=tuple(notice for notice, _ in toasts),
            toast_seconds_left=tuple(until - now for _, until in toasts),
            blend=self._blend(),
            task=None if self.adder is None else self.adder.line(),
        )

    def _blend(self) -> tuple[tuple[str, float], ...]:
        """The chosen blend's styles and weights; () for one style, or for styles that cannot
        blend (other network bodies), where only the heaviest runs."""
        styles, mix = self.stylizer.styles, self.stylizer.mix
        indices = [index for index, _ in mix]
        if len(mix) < 2 or max(indices) >= len(styles) or not self.stylizer.can_blend(indices):
            return ()  # max(): a mix read as the styles were being replaced
        return tuple((styles[index].info.name, weight) for index, weight in mix)

    def _net_long_side(self) -> int | None:
        """The network's long side now for the size of the frames shown; None before one."""
        shape = self.pipeline.stats.frame_shape
        return None if shape is None else max(self.stylizer.network_shape(*shape))

    def _error_text(self, error: BaseException) -> str:
        """The error in one line, naming the file that holds its traceback, if one does."""
        log_file = self.pipeline.error_log
        return error_text(error) + (f" (details: {log_file})" if log_file else "")
