"""Frames from the inference thread to the GUI thread, at most one waiting.

The inference thread hands each stylized frame to a FrameBridge, which keeps at most one
frame waiting for the GUI and posts one queued signal for it: a newer frame replaces a
waiting one (a display drop) instead of piling events up in Qt's queue.
"""

from __future__ import annotations

import threading

from PyQt6.QtCore import QObject, pyqtSignal

from livestyle.live.inference import StylizedFrame


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
