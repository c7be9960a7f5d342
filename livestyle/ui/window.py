"""The live window: draws what the pipeline produces and turns keys into pipeline controls.

The inference thread hands each stylized frame to a FrameBridge, which keeps at most one
frame waiting for the GUI and posts one queued signal for it: a newer frame replaces a
waiting one (a display drop) instead of piling events up in Qt's queue. The Qt main thread
only draws and handles keys; a 200 ms timer polls the pipeline (source ended, errors,
recording) and gives Python a chance to run its signal handlers while Qt's loop runs.

What is drawn lives next door: frames.py (the picture and its views), overlay.py (the
heads-up text and the help box), strip.py (the style strip, key G: its thumbnails come from
the inference thread through their own bridge), keys.py (the key table the keys and the
help come from).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import (
    QCloseEvent,
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PyQt6.QtWidgets import QApplication, QWidget

from livestyle.core.crashlog import error_line
from livestyle.core.errors import LivestyleError, error_text
from livestyle.core.outputs import new_file_in, written_aside
from livestyle.core.signals import install_stop_handlers, restore_handlers
from livestyle.live.add_style import StyleAdder
from livestyle.live.inference import StylizedFrame
from livestyle.live.pipeline import Pipeline
from livestyle.ui.frames import ShownFrame, ViewMode, draw_frame, view_pixels
from livestyle.ui.keys import STRENGTH_STEP, bindings_by_key, help_rows
from livestyle.ui.overlay import (
    DIM,
    ORANGE,
    RED,
    WHITE,
    Line,
    OverlayState,
    draw_help,
    draw_overlay,
    overlay_lines,
    recent_median,
    text_font,
)
from livestyle.ui.strip import (
    ShownThumbnail,
    StripLayout,
    ThumbnailBridge,
    cell_at,
    draw_strip,
    label_font,
    layout_strip,
)
from livestyle.video.files import write_image

log = logging.getLogger(__name__)

TITLE = "livestyle"
DEFAULT_SIZE = (960, 720)
TICK_MS = 200  # state polling, and how soon Python sees a Ctrl-C while Qt's loop runs
TOAST_SECONDS = 2.0
FAILURE_TOAST_SECONDS = 8.0  # a failed snapshot or recording: long enough to read the why


class FrameBridge(QObject):
    """Carries frames from the inference thread to the GUI with at most one in flight.

    `submit` (any thread, never blocks) stores the frame in a one-item holder and emits
    `arrived` only when the holder was empty; otherwise it replaces the waiting frame and
    counts a drop. The GUI slot calls `take`, which empties the holder so the next submit
    signals again.
    """

    arrived = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: StylizedFrame | None = None
        self._closed = False
        self.submitted = 0
        self.dropped = 0

    def submit(self, frame: StylizedFrame) -> None:
        with self._lock:
            if self._closed:
                return
            self.submitted += 1
            in_flight = self._pending is not None
            if in_flight:
                self.dropped += 1
            self._pending = frame
        if not in_flight:
            self.arrived.emit(frame)

    def take(self) -> StylizedFrame | None:
        with self._lock:
            frame, self._pending = self._pending, None
            return frame

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def close(self) -> None:
        """Ignore late frames: the window is going away."""
        with self._lock:
            self._closed = True
            self._pending = None


def snapshot_stem() -> str:
    return f"livestyle-{time.strftime('%Y%m%d-%H%M%S')}"


class LiveWindow(QWidget):
    """Shows a pipeline's frames with a heads-up overlay; keys control the pipeline.

    Constructing it only builds the widget: `start` connects it to the pipeline and starts
    the threads, `shutdown` (also run by closing the window) stops them exactly once.
    """

    closed = pyqtSignal()

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        out_dir: Path = Path("."),
        record: Path | None = None,
        size: tuple[int, int] = DEFAULT_SIZE,
        adder: StyleAdder | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.pipeline = pipeline
        self.adder = adder  # a painting dropped on the window becomes a style (add_style.py)
        self.setAcceptDrops(adder is not None)
        self.stylizer = pipeline.stylizer
        self.out_dir = Path(out_dir)
        self.record = record
        self.box_size = size
        self.view = ViewMode.STYLIZED
        self.overlay_visible = True
        self.help_visible = False
        self.strip_visible = False
        self.thumbnails: dict[int, ShownThumbnail] = {}  # by style index, while the strip shows
        self.shown: ShownFrame | None = None
        self.frames_shown = 0
        self.ended = False
        self.signal_received: int | None = None
        self._toasts: list[tuple[str, QColor, float]] = []  # (text, colour, shown until)
        self._rec_since: float | None = None
        self._saving: list[Path] = []  # stopped recordings whose files are being finalized
        self._strength_changed_until = 0.0  # the strength line shows a while after a change
        self._started = False
        self._stopped = False
        self._sized = False
        self._error_logged = False

        self.bridge = FrameBridge(self)
        self.bridge.arrived.connect(self._on_frame_arrived, Qt.ConnectionType.QueuedConnection)
        self.thumbnail_bridge = ThumbnailBridge(self)
        self.thumbnail_bridge.arrived.connect(
            self._on_thumbnails_arrived, Qt.ConnectionType.QueuedConnection
        )
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._keys = bindings_by_key()

        self.setWindowTitle(TITLE)
        self.resize(*size)
        self.setMinimumSize(160, 120)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paintEvent covers it all

    # --- lifecycle ---
    def start(self) -> None:
        """Receive frames, start recording if asked, start the pipeline's threads."""
        if self._started:
            return
        self._started = True
        self.pipeline.add_sink(self.bridge.submit)
        self.pipeline.add_thumbnail_sink(self.thumbnail_bridge.submit)
        if self.record is not None:
            self.start_recording(self.record)
        self.pipeline.start()
        self._timer.start()

    def shutdown(self) -> None:
        """Stop the pipeline (joins threads, finalizes a recording) the first time only."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        if self.adder is not None:
            self.adder.shutdown()  # a training child is killed, nothing of it is kept
        self.pipeline.stop()
        self.bridge.close()
        self.thumbnail_bridge.close()
        self._rec_since = None
        self._check_error()

    @property
    def exit_code(self) -> int:
        """1 if the pipeline failed, 128 + signal number if a signal closed us, else 0."""
        if self.pipeline.error is not None:
            return 1
        if self.signal_received is not None:
            return 128 + self.signal_received
        return 0

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.shutdown()
        if event is not None:
            event.accept()
        self.closed.emit()

    def _tick(self) -> None:
        self._sync_recording()
        if self._started and not self.ended and not self.pipeline.running:
            self.ended = True  # the source ended or a thread failed; the last frame stays
            if not self._check_error():
                log.info("source ended")
        self._toasts = [t for t in self._toasts if t[2] > time.monotonic()]
        self.update()

    def _check_error(self) -> bool:
        error = self.pipeline.error
        if error is not None and not self._error_logged:
            self._error_logged = True
            log.error("pipeline failed: %s", error)
        return error is not None

    def _sync_recording(self) -> None:
        """Follow recordings started elsewhere or ended by a writer error; say when a stopped
        recording's file is finalized."""
        if not self.pipeline.recording:
            self._rec_since = None
        elif self._rec_since is None:
            self._rec_since = time.monotonic()
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
                self.toast("recording stopped: no frames were recorded", ORANGE)

    # --- frames ---
    def _on_frame_arrived(self, _signalled: StylizedFrame) -> None:
        frame = self.bridge.take()  # the newest, which may have replaced the signalled one
        if frame is not None:
            self.show_frame(frame)

    def show_frame(self, frame: StylizedFrame) -> None:
        self.shown = ShownFrame.of(frame)
        self.frames_shown += 1
        if not self._sized:
            self._sized = True
            self._fit_to_frame(*self.shown.size)
        self.update()

    def _fit_to_frame(self, width: int, height: int) -> None:
        """Once, on the first frame: give the window the frame's aspect within the size box."""
        if self.isFullScreen() or self.isMaximized():
            return
        box_w, box_h = self.box_size
        screen = self.screen()
        if screen is not None:
            available = screen.availableGeometry()
            box_w = min(box_w, int(available.width() * 0.9))
            box_h = min(box_h, int(available.height() * 0.9))
        scale = min(box_w / width, box_h / height)
        self.resize(max(1, round(width * scale)), max(1, round(height * scale)))

    def _on_thumbnails_arrived(self) -> None:
        for thumbnail in self.thumbnail_bridge.take():
            if self.strip_visible:  # one made just before G hid the strip is dropped
                self.thumbnails[thumbnail.index] = ShownThumbnail.of(thumbnail)
        self.update()

    def shown_image(self) -> np.ndarray | None:
        """The BGR pixels of what the view shows (at frame resolution), for snapshots."""
        return None if self.shown is None else view_pixels(self.shown, self.view)

    # --- keys (keys.py says which key calls which of the controls below) ---
    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        binding = self._keys.get(event.key()) if event is not None else None
        if binding is None:
            super().keyPressEvent(event)
            return
        getattr(self, binding.action)(*binding.args)
        self.update()

    def focusNextPrevChild(self, _next: bool) -> bool:
        return False  # Tab toggles the overlay instead of moving focus

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        """A click on a thumbnail of the strip picks its style."""
        index = None
        if event is not None and event.button() == Qt.MouseButton.LeftButton:
            index = self.strip_cell_at(event.position())
        if index is None:
            super().mousePressEvent(event)
            return
        self.pick_style(index)
        self.update()

    # --- controls ---
    def step_style(self, delta: int) -> None:
        self.stylizer.step(delta)

    def pick_style(self, index: int) -> None:
        if 0 <= index < len(self.stylizer.styles):
            self.stylizer.select(index)

    def change_strength(self, delta: float) -> None:
        steps = round((self.stylizer.strength + delta) / STRENGTH_STEP)
        self.stylizer.strength = steps * STRENGTH_STEP
        # One line that updates in place (no toast per key press, which stacked up).
        self._strength_changed_until = time.monotonic() + TOAST_SECONDS

    def cycle_view(self) -> None:
        self.view = self.view.next()  # the overlay names the view when it is not the default

    def toggle_preserve_color(self) -> None:
        self.stylizer.preserve_color = not self.stylizer.preserve_color  # the overlay says so

    def toggle_steady(self) -> None:
        self.pipeline.steady = not self.pipeline.steady  # the overlay says when it is off

    def toggle_pause(self) -> None:
        self.pipeline.toggle_pause()

    def toggle_overlay(self) -> None:
        self.overlay_visible = not self.overlay_visible

    def toggle_help(self) -> None:
        self.help_visible = not self.help_visible

    def toggle_strip(self) -> None:
        """G: the style strip; the inference thread makes thumbnails only while it shows."""
        self.strip_visible = not self.strip_visible
        self.pipeline.show_thumbnails(self.strip_visible)
        if not self.strip_visible:
            self.thumbnails.clear()  # shown again, it fills afresh rather than show old ones

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    def save_snapshot(self) -> Path | None:
        """Write what is shown to out_dir as a timestamped PNG; the toast says where."""
        image = self.shown_image()
        if image is None:
            self.toast("no frame to save yet", ORANGE)
            return None
        target = new_file_in(self.out_dir, f"{snapshot_stem()}.png")
        try:
            with written_aside(target) as aside:  # never half a PNG under the snapshot's name
                write_image(aside.partial, image)
        except (LivestyleError, OSError) as exc:  # "cannot write PATH: Not a directory"
            reason = str(exc) if isinstance(exc, LivestyleError) else f"{target}: {exc}"
            log.error("could not save snapshot: %s", reason)  # on stderr too
            self.toast(f"could not save snapshot: {reason}", RED)
            return None
        log.info("saved snapshot %s", aside.path)
        self.toast(f"saved snapshot {aside.path}")
        return aside.path

    def toggle_recording(self) -> Path | None:
        """R: start a timestamped recording in out_dir, or stop and finalize the current one."""
        return self.stop_recording() if self.pipeline.recording else self.start_recording()

    def start_recording(self, path: Path | None = None) -> Path | None:
        try:
            target = self.pipeline.start_recording(path)
        except (LivestyleError, OSError) as exc:
            log.error("cannot record: %s", exc)
            self.toast(f"cannot record: {exc}", RED)
            return None
        self._rec_since = time.monotonic()
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

    def toggle_virtual_cam(self) -> None:
        """V: send the stream to the virtual webcam, or stop; a device that cannot open says
        why in the overlay's status line."""
        on = self.pipeline.toggle_virtual_cam()
        self.toast("virtual camera on" if on else "virtual camera off")

    def cancel_adding(self) -> None:
        """X: stop adding a dropped painting (the overlay says so)."""
        if self.adder is None:
            self.toast("nothing to cancel")
        else:
            self.adder.cancel()

    # --- drops: a painting file becomes a style ---
    def dragEnterEvent(self, event: QDragEnterEvent | None) -> None:
        if event is not None and self.adder is not None and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent | None) -> None:
        if event is None or self.adder is None:
            return
        urls = event.mimeData().urls()
        event.acceptProposedAction()
        self.adder.drop([Path(url.toLocalFile()) for url in urls if url.isLocalFile()])
        self.update()

    def toast(self, message: str, color: QColor = WHITE) -> None:
        """A message shown for a couple of seconds under the overlay; a failure (red or
        orange) for longer, to be read."""
        seconds = TOAST_SECONDS if color == WHITE else FAILURE_TOAST_SECONDS
        self._toasts = [*self._toasts[-2:], (message, color, time.monotonic() + seconds)]
        self.update()

    # --- overlay ---
    def overlay_state(self) -> OverlayState:
        """This moment's window and pipeline state, as overlay.py needs it."""
        now = time.monotonic()
        style = self.stylizer.active
        stats = self.pipeline.stats
        error = self.pipeline.error
        saving = self.pipeline.saving
        return OverlayState(
            style_name=style.name,
            style_index=self.stylizer.index,
            painting=(style.title, style.artist, style.year),
            strength=self.stylizer.strength,
            strength_changed=now < self._strength_changed_until,
            view=self.view,
            preserve_color=self.stylizer.preserve_color,
            steady=self.pipeline.steady,
            fps=stats.fps,
            last_frame_age=None if stats.last_ready_at is None else now - stats.last_ready_at,
            latency_ms=recent_median(stats.latency_ms),
            inference_ms=recent_median(stats.inference_ms),
            paused=self.pipeline.paused,
            recording_for=None if self._rec_since is None else now - self._rec_since,
            virtual_cam=self.pipeline.virtual_cam_on,
            saving=tuple(p.name for p in self._saving if p in saving),
            error=None if error is None else self._error_text(error),
            ended=self.ended,
            status=self.pipeline.status,
            toasts=tuple((text, color) for text, color, _ in self._toasts),
            task=None if self.adder is None else self.adder.line(),
            overlay_visible=self.overlay_visible,
            help_visible=self.help_visible,
        )

    def _error_text(self, error: BaseException) -> str:
        """The error in one line, naming the file that holds its traceback, if one does."""
        log_file = self.pipeline.error_log
        return error_text(error) + (f" (details: {log_file})" if log_file else "")

    def overlay_lines(self) -> list[Line]:
        return overlay_lines(self.overlay_state())

    def overlay_text(self) -> str:
        return "\n".join(text for text, _ in self.overlay_lines())

    # --- strip ---
    def strip_layout(self) -> StripLayout:
        """Where the strip's cells are in the window now (drawing and clicks share it)."""
        font = label_font(self.font(), self.height())
        return layout_strip(len(self.stylizer.styles), QRectF(self.rect()), self._aspect(), font)

    def _aspect(self) -> float:
        """The thumbnails' height / width: the frame's (a thumbnail is the frame, smaller)."""
        if self.shown is not None:
            width, height = self.shown.size
            return height / width
        return 3 / 4

    def strip_cell_at(self, point: QPointF) -> int | None:
        """The style of the thumbnail at `point`, when the strip shows one there."""
        return cell_at(self.strip_layout().cells, point) if self.strip_visible else None

    def _draw_strip(self, painter: QPainter) -> None:
        names = [style.info.name for style in self.stylizer.styles]
        draw_strip(painter, self.strip_layout(), names, self.thumbnails, self.stylizer.index)

    # --- drawing ---
    def paintEvent(self, _event: QPaintEvent | None) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), Qt.GlobalColor.black)
            painter.setFont(text_font(self.font(), self.height()))
            if self.shown is None:
                painter.setPen(DIM)
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "waiting for frames…")
            else:
                draw_frame(painter, self.shown, self.view, self.rect())
            if self.strip_visible:
                self._draw_strip(painter)
            lines = self.overlay_lines()
            overlay = draw_overlay(painter, lines) if lines else QRectF()
            if self.help_visible:
                draw_help(painter, help_rows(), QRectF(self.rect()), avoid=overlay)
        finally:
            painter.end()


def install_signal_handlers(window: LiveWindow) -> dict[int, object]:
    """Stop signals post a close to the window (the tick timer lets Python run them)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def on_signal(signum: int, _frame: object) -> None:
        if window.signal_received is None:
            window.signal_received = signum
        QTimer.singleShot(0, window.close)

    return install_stop_handlers(on_signal)


def run_window(
    pipeline: Pipeline,
    args: argparse.Namespace,
    view: str | None = None,
    on_close: Callable[[str], None] | None = None,
) -> int:
    """Show the live window until the user quits or a signal arrives; returns the exit code.

    `view` is the view to start in (a ViewMode value); `on_close` gets the one shown last,
    once the window has closed (the saved settings)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = LiveWindow(
        pipeline,
        out_dir=getattr(args, "out_dir", Path(".")),
        record=getattr(args, "record", None),
        adder=StyleAdder.for_pipeline(pipeline, args),
    )
    if view is not None:
        window.view = ViewMode(view)
    window.closed.connect(app.quit)
    previous = install_signal_handlers(window)
    try:
        window.start()
        if getattr(args, "fullscreen", False):
            window.showFullScreen()
        else:
            window.show()
        app.exec()
        # The last window closing and `closed` each post a quit; one ended this loop, and a
        # second left queued would end the next one at once (a later window, a test's wait).
        QApplication.removePostedEvents(None, QEvent.Type.Quit)
    finally:
        window.shutdown()
        restore_handlers(previous)
        if on_close is not None:
            on_close(window.view.value)
    code, dropped = window.exit_code, window.bridge.dropped
    del window  # the widget goes before a QApplication made here does
    print(f"{pipeline.summary()}, display dropped {dropped}")
    if pipeline.error is not None:
        print(error_line(error_text(pipeline.error), pipeline.error_log), file=sys.stderr)
    if pipeline.recording_error is not None:  # as headless does: not only on screen
        print(error_line(pipeline.recording_error, pipeline.error_log), file=sys.stderr)
    return code
