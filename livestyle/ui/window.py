"""The live window: draws what the live session produces and turns keys into its controls.

The window talks to one object, its LiveSession (livestyle.live.session), which owns the
pipeline, the stylizer and the style adder. The inference thread hands each stylized frame
to a FrameBridge (bridge.py), which posts at most one queued signal per waiting frame. The
Qt main thread only draws and handles keys; a 200 ms timer lets the session follow its
threads (source ended, errors, recording) and gives Python a chance to run its signal
handlers while Qt's loop runs.

What is drawn lives next door: frames.py (the picture and its views), overlay.py (the
heads-up text and the help box), strip.py (the style strip, key G: its thumbnails come from
the inference thread through their own bridge), keys.py (the key table the keys and the
help come from, each binding with the call it makes).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PyQt6.QtWidgets import QApplication, QWidget

from livestyle.addstyle import AdderOptions, StyleAdder
from livestyle.core.signals import install_stop_handlers, restore_handlers
from livestyle.live.inference import StylizedFrame
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession, ViewMode
from livestyle.ui.bridge import FrameBridge
from livestyle.ui.frames import ShownFrame, draw_frame, view_pixels
from livestyle.ui.keys import bindings_by_key, help_rows
from livestyle.ui.overlay import (
    DIM,
    Line,
    OverlayState,
    Row,
    draw_help,
    draw_overlay,
    overlay_rows,
    text_font,
)
from livestyle.ui.overlay import overlay_lines as lines_of
from livestyle.ui.strip import (
    ShownThumbnail,
    StripLayout,
    ThumbnailBridge,
    cell_at,
    draw_strip,
    label_font,
    layout_strip,
)

TITLE = "livestyle"
DEFAULT_SIZE = (960, 720)
TICK_MS = 200  # state polling, and how soon Python sees a Ctrl-C while Qt's loop runs


class LiveWindow(QWidget):
    """Shows a live session's frames with a heads-up overlay; keys control the session.

    Constructing it only builds the widget: `start` connects it to the session and starts
    the threads, `shutdown` (also run by closing the window) stops them exactly once.
    """

    closed = pyqtSignal()

    def __init__(
        self,
        session: LiveSession,
        *,
        size: tuple[int, int] = DEFAULT_SIZE,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.setAcceptDrops(session.accepts_paintings)  # a painting dropped becomes a style
        self.box_size = size
        self.overlay_visible = True
        self.help_visible = False
        self.strip_visible = False
        self.thumbnails: dict[int, ShownThumbnail] = {}  # by style index, while the strip shows
        self.shown: ShownFrame | None = None
        self.frames_shown = 0
        self.signal_received: int | None = None
        self._started = False
        self._stopped = False
        self._sized = False

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
        """Receive frames and thumbnails, start the session's threads and the tick."""
        if self._started:
            return
        self._started = True
        self.session.start(self.bridge.submit, self.thumbnail_bridge.submit)
        self._timer.start()

    def shutdown(self) -> None:
        """Stop the session (joins threads, finalizes a recording) the first time only."""
        if self._stopped:
            return
        self._stopped = True
        self._timer.stop()
        self.session.shutdown()
        self.bridge.close()
        self.thumbnail_bridge.close()

    @property
    def exit_code(self) -> int:
        """1 if the pipeline failed, 128 + signal number if a signal closed us, else 0."""
        return self.session.exit_code(self.signal_received)

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.shutdown()
        if event is not None:
            event.accept()
        self.closed.emit()

    def _tick(self) -> None:
        self.session.tick()
        self.update()

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
        return None if self.shown is None else view_pixels(self.shown, self.session.view)

    # --- input (keys.py says which key makes which call) ---
    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        binding = self._keys.get(event.key()) if event is not None else None
        if binding is None:
            super().keyPressEvent(event)
            return
        binding.action(self)
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
        self.session.pick_style(index)
        self.update()

    def dragEnterEvent(self, event: QDragEnterEvent | None) -> None:
        if event is not None and self.session.accepts_paintings and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent | None) -> None:
        if event is None or not self.session.accepts_paintings:
            return
        urls = event.mimeData().urls()
        event.acceptProposedAction()
        self.session.add_painting([Path(url.toLocalFile()) for url in urls if url.isLocalFile()])
        self.update()

    # --- the window's own switches (the session's controls are called from keys.py) ---
    def save_snapshot(self) -> Path | None:
        """Write what is shown to the session's out_dir; the toast says where."""
        return self.session.save_snapshot(self.shown_image())

    def toggle_overlay(self) -> None:
        self.overlay_visible = not self.overlay_visible

    def toggle_help(self) -> None:
        self.help_visible = not self.help_visible

    def toggle_strip(self) -> None:
        """G: the style strip; the inference thread makes thumbnails only while it shows."""
        self.strip_visible = not self.strip_visible
        self.session.show_thumbnails(self.strip_visible)
        if not self.strip_visible:
            self.thumbnails.clear()  # shown again, it fills afresh rather than show old ones

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()

    # --- overlay ---
    def overlay_state(self) -> OverlayState:
        """This moment's session state and what the window shows of it."""
        return OverlayState(
            **vars(self.session.state()),
            overlay_visible=self.overlay_visible,
            help_visible=self.help_visible,
        )

    def overlay_lines(self) -> list[Line]:
        return lines_of(self.overlay_state())

    def overlay_text(self) -> str:
        return "\n".join(text for text, _ in self.overlay_lines())

    def overlay_rows(self) -> list[Row]:
        """The overlay's lines as drawn now: wrapped to the window's width (full screen too)."""
        font = text_font(self.font(), self.height())
        return overlay_rows(self.overlay_lines(), font, self.width())

    # --- strip ---
    def strip_layout(self) -> StripLayout:
        """Where the strip's cells are in the window now (drawing and clicks share it)."""
        font = label_font(self.font(), self.height())
        count = len(self.session.style_names)
        return layout_strip(count, QRectF(self.rect()), self._aspect(), font)

    def _aspect(self) -> float:
        """The thumbnails' height / width: the frame's (a thumbnail is the frame, smaller)."""
        if self.shown is not None:
            width, height = self.shown.size
            return height / width
        return 3 / 4

    def strip_cell_at(self, point: QPointF) -> int | None:
        """The style of the thumbnail at `point`, when the strip shows one there."""
        return cell_at(self.strip_layout().cells, point) if self.strip_visible else None

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
                draw_frame(painter, self.shown, self.session.view, self.rect())
            if self.strip_visible:
                names, index = self.session.style_names, self.session.style_index
                draw_strip(painter, self.strip_layout(), names, self.thumbnails, index)
            lines = self.overlay_lines()
            overlay = draw_overlay(painter, lines, self.width()) if lines else QRectF()
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
    *,
    out_dir: Path,
    record: Path | None,
    fullscreen: bool,
    adder: AdderOptions,
    view: str | None = None,
    on_close: Callable[[str], None] | None = None,
) -> int:
    """Show the live window until the user quits or a signal arrives; returns the exit code.

    `record` is recorded from the start; `adder` says where a dropped painting's grown
    network and its training photos are. `view` is the view to start in (a ViewMode
    value); `on_close` gets the one shown last, once the window has closed (the saved
    settings)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    painting_adder = StyleAdder.for_live(pipeline.stylizer, adder, lambda: pipeline.stats.fps)
    session = LiveSession(pipeline, out_dir=out_dir, record=record, adder=painting_adder)
    if view is not None:
        session.view = ViewMode(view)
    window = LiveWindow(session)
    window.closed.connect(app.quit)
    previous = install_signal_handlers(window)
    try:
        window.start()
        if fullscreen:
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
            on_close(session.view.value)
    code, dropped = window.exit_code, window.bridge.dropped
    del window  # the widget goes before a QApplication made here does
    print(f"{session.summary()}, display dropped {dropped}")
    for line in session.error_lines():  # as headless does: not only on screen
        print(line, file=sys.stderr)
    return code
