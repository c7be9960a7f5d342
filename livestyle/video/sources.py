"""Frame sources: camera, video file or stream URL through OpenCV, and the demo by name."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from livestyle.core.errors import SourceError
from livestyle.video.demo import DEFAULT_FPS, DEMO, DemoSource

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    """Anything that yields BGR uint8 frames."""

    name: str
    fps: float
    # Files and the demo are paced to `fps` in live mode; cameras pace themselves.
    paced: bool
    # A camera or stream may drop out and come back; a file just ends.
    live: bool

    def read(self) -> np.ndarray | None:
        """Next frame, or None when the source has ended or failed."""

    def reopen(self) -> bool:
        """Try to reopen after a failure (cameras); rewind (files). True on success."""

    def close(self) -> None: ...


class OpenCVSource:
    """A camera index, a video file or a stream URL through OpenCV."""

    def __init__(
        self,
        spec: str | int,
        width: int | None = None,
        height: int | None = None,
        fps: float | None = None,
    ) -> None:
        self.spec = spec
        self.is_camera = isinstance(spec, int)
        self.is_file = not self.is_camera and Path(str(spec)).exists()
        self.live = not self.is_file
        self.paced = self.is_file
        self.name = f"camera {spec}" if self.is_camera else str(spec)
        self._request = (width, height, fps)
        self._cap = self._open()
        reported = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(reported) if reported and 1 <= reported <= 240 else (fps or DEFAULT_FPS)
        self.frame_count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)) if self.is_file else 0

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise SourceError(self._cannot_open())
        width, height, fps = self._request
        if self.is_camera:
            if width:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            if height:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            if fps:
                cap.set(cv2.CAP_PROP_FPS, fps)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # keep latency low: no driver-side backlog
        return cap

    def _cannot_open(self) -> str:
        if self.is_camera:
            return f"no camera at index {self.spec} (try --source demo or --source VIDEO_FILE)"
        if not self.is_file and "://" not in str(self.spec):
            return f"cannot open {self.spec}: no such file"
        return f"cannot open {self.spec}: not a readable video or stream"

    def read(self) -> np.ndarray | None:
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        return frame

    def reopen(self) -> bool:
        if self.is_file:
            return bool(self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0))
        self._cap.release()
        try:
            self._cap = self._open()
        except SourceError:
            return False
        return True

    def close(self) -> None:
        self._cap.release()


def open_source(
    spec: str, width: int | None = None, height: int | None = None, fps: float | None = None
) -> FrameSource:
    """Open `demo`, a camera index ('0'), a video file or a stream URL."""
    if spec == DEMO:
        return DemoSource(width or 640, height or 480, fps or DEFAULT_FPS)
    if spec.isdigit():
        return OpenCVSource(int(spec), width, height, fps)
    if "://" not in spec and not Path(spec).exists():
        raise SourceError(f"cannot open {spec}: no such file")
    return OpenCVSource(spec, width, height, fps)
