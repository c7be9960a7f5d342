"""Frame sources: camera, video file or stream URL through OpenCV, and the demos by name."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from livestyle.core.errors import SourceError
from livestyle.video.demo import DEFAULT_FPS, DEMO, DEMO_SCENE, DemoSource, demo_clip_path

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


class DemoClipSource(OpenCVSource):
    """The built-in demo clip: real footage with a face, paced at its own rate and looping
    forever (rewound at its end, so to the capture thread it is one endless stream: pacing
    and timestamps run on), scaled and centre-cropped to cover the requested size."""

    def __init__(self, path: Path, width: int | None = None, height: int | None = None) -> None:
        if not path.is_file():  # before OpenCV, which would log its own lines about it
            raise SourceError(f"cannot open {path}: no such file")
        super().__init__(str(path))
        self.name = DEMO
        # Read one frame now: a truncated file opens fine and fails only here.
        self._pending = super().read()
        if self._pending is None:
            self.close()
            raise SourceError(f"cannot open {path}: not a readable video")
        clip_height, clip_width = self._pending.shape[:2]
        self.width, self.height = requested_size(clip_width, clip_height, width, height)
        self._plan = cover_plan(clip_width, clip_height, self.width, self.height)

    def read(self) -> np.ndarray | None:
        frame, self._pending = self._pending, None
        if frame is None:
            frame = super().read()
        if frame is None and self.reopen():  # its end: on from the first frame, no gap
            frame = super().read()
        return None if frame is None else cover(frame, self._plan, (self.width, self.height))


# (scaled width, scaled height, left, top): scale to cover, then crop at left/top.
CoverPlan = tuple[int, int, int, int]


def requested_size(
    clip_width: int, clip_height: int, width: int | None, height: int | None
) -> tuple[int, int]:
    """--width/--height; one alone keeps the clip's aspect; neither: the clip's own size."""
    if width and height:
        return width, height
    if width:
        return width, max(1, round(width * clip_height / clip_width))
    if height:
        return max(1, round(height * clip_width / clip_height)), height
    return clip_width, clip_height


def cover_plan(clip_width: int, clip_height: int, width: int, height: int) -> CoverPlan:
    """How to fill width x height with the clip, no bars: the smallest scale that covers
    it, the overflow cropped evenly from both sides."""
    scale = max(width / clip_width, height / clip_height)
    scaled_width = max(width, round(clip_width * scale))
    scaled_height = max(height, round(clip_height * scale))
    return scaled_width, scaled_height, (scaled_width - width) // 2, (scaled_height - height) // 2


def cover(frame: np.ndarray, plan: CoverPlan, size: tuple[int, int]) -> np.ndarray:
    """The frame scaled and cropped to `size` as `plan` says (the frame itself when it fits)."""
    scaled_width, scaled_height, left, top = plan
    width, height = size
    if frame.shape[:2] == (height, width):
        return frame
    shrink = scaled_width < frame.shape[1]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    scaled = cv2.resize(frame, (scaled_width, scaled_height), interpolation=interpolation)
    return np.ascontiguousarray(scaled[top : top + height, left : left + width])


def open_demo(width: int | None, height: int | None, fps: float | None) -> FrameSource:
    """The demo clip; where the install has lost it, the drawn scene, said in one line."""
    try:
        return DemoClipSource(demo_clip_path(), width, height)
    except SourceError as exc:
        log.warning(
            "%s; showing the demo scene instead (reinstall livestyle to get the demo clip back)",
            exc,
        )
        return open_source(DEMO_SCENE, width, height, fps)


def open_source(
    spec: str, width: int | None = None, height: int | None = None, fps: float | None = None
) -> FrameSource:
    """Open `demo` (the clip), `demo-scene`, a camera index ('0'), a video file or a URL."""
    if spec == DEMO:
        return open_demo(width, height, fps)
    if spec == DEMO_SCENE:
        return DemoSource(width or 640, height or 480, fps or DEFAULT_FPS)
    if spec.isdigit():
        return OpenCVSource(int(spec), width, height, fps)
    if "://" not in spec and not Path(spec).exists():
        raise SourceError(f"cannot open {spec}: no such file")
    return OpenCVSource(spec, width, height, fps)
