"""The virtual camera: the stylized stream as a webcam that other apps (Zoom, Meet, OBS) pick.

One more sink of the inference thread, on its own thread: the inference thread puts each
frame in a latest-frame slot and never waits; this thread sends the newest one to the device,
so a slow device gets fewer frames (the replaced ones are counted as drops) instead of slowing
the stream. The camera opens on the first frame after it is switched on (at that frame's size
and the source's rate) and closes when switched off, which frees the device for other apps.

The device comes through pyvirtualcam (an optional extra), imported only when a camera opens.
A camera that cannot open, or fails while running, switches itself off and is reported once;
the window, the recording and headless runs go on without it.
"""

from __future__ import annotations

import logging
import platform
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from livestyle.core.crashlog import keep_traceback
from livestyle.core.errors import LivestyleError, VirtualCamError, error_text
from livestyle.live.slot import LatestSlot

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often an idle sink looks whether it was switched off or stopped

PIP_HINT = "pip install 'livestyle[virtualcam]'"
LINUX_DEVICE_HINT = (
    "sudo apt install v4l2loopback-dkms && sudo modprobe v4l2loopback devices=1 exclusive_caps=1"
)
OBS_HINT = "install OBS Studio and start its Virtual Camera once"


class VirtualCamera(Protocol):
    """What the sink needs of a device: it takes BGR uint8 frames of the size it was opened at."""

    def send(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...


# (width, height, fps) -> an open camera; raises VirtualCamError when there is none to open.
CameraFactory = Callable[[int, int, float], VirtualCamera]


def device_hint(system: str | None = None) -> str:
    """How to get a virtual camera device on this system (pyvirtualcam brings none)."""
    system = platform.system() if system is None else system
    return LINUX_DEVICE_HINT if system == "Linux" else OBS_HINT


def missing_backend_message(system: str | None = None) -> str:
    return (
        f"virtual camera off: pyvirtualcam is not installed; {PIP_HINT}, then {device_hint(system)}"
    )


def one_line(exc: BaseException) -> str:
    """pyvirtualcam joins one error per backend it tried with newlines."""
    return "; ".join(part.strip() for part in str(exc).splitlines() if part.strip()) or (
        type(exc).__name__
    )


class RgbCamera:
    """A pyvirtualcam without the BGR format: frames are converted to RGB on the way."""

    def __init__(self, camera) -> None:
        self.camera = camera
        self.device = getattr(camera, "device", "")

    def send(self, frame: np.ndarray) -> None:
        self.camera.send(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        self.camera.close()


def open_virtual_camera(width: int, height: int, fps: float) -> VirtualCamera:
    """The system's virtual camera through pyvirtualcam: v4l2loopback on Linux, OBS Virtual
    Camera on Windows and macOS. Raises VirtualCamError, in one line saying what to install."""
    try:
        import pyvirtualcam
    except ImportError as exc:
        if exc.name != "pyvirtualcam":  # installed, but its native part does not load
            raise VirtualCamError(f"virtual camera off: pyvirtualcam cannot load: {exc}") from exc
        raise VirtualCamError(missing_backend_message()) from exc
    # Frames are BGR: sent as they are, pyvirtualcam converts to the device's format in C.
    bgr = getattr(pyvirtualcam.PixelFormat, "BGR", None)
    try:
        camera = pyvirtualcam.Camera(
            width, height, fps, fmt=bgr if bgr is not None else pyvirtualcam.PixelFormat.RGB
        )
    except Exception as exc:  # no device, no permission, a size it refuses
        reason = one_line(exc).rstrip(".")
        message = f"virtual camera off: {reason}; to set one up: {device_hint()}"
        raise VirtualCamError(message) from exc
    return camera if bgr is not None else RgbCamera(camera)


class VirtualCamSink(threading.Thread):
    """Sends the newest submitted frame to a virtual camera while switched on."""

    def __init__(
        self,
        fps: float,
        *,
        open_camera: CameraFactory = open_virtual_camera,
        on_error: Callable[[str], None] = lambda message: None,
    ) -> None:
        super().__init__(name="livestyle-virtualcam", daemon=True)
        self.fps = float(fps)
        self.open_camera = open_camera
        self.on_error = on_error
        self.slot: LatestSlot[np.ndarray] = LatestSlot()
        self._on = threading.Event()
        self._stopping = threading.Event()
        self._camera: VirtualCamera | None = None  # only this thread touches it
        self._size: tuple[int, int] | None = None
        self.device = ""
        self.sent = 0
        self.failures = 0
        self.error: str | None = None  # why the camera last went off by itself
        self.error_log: Path | None = None  # the file holding that failure's traceback, if any

    # --- any thread: never blocks ---
    @property
    def on(self) -> bool:
        return self._on.is_set()

    def switch_on(self) -> None:
        self._on.set()

    def switch_off(self) -> None:
        """Send no more; the thread closes the camera (a send may be in progress)."""
        self._on.clear()

    def submit(self, image: np.ndarray) -> None:
        if self._on.is_set() and not self._stopping.is_set():
            self.slot.put(image)  # replaces a frame not yet sent: counted in slot.dropped

    @property
    def dropped(self) -> int:
        """Frames replaced by a newer one before the camera took them."""
        return self.slot.dropped

    def stop(self) -> None:
        self._stopping.set()
        self.slot.close()  # wakes the thread at once

    # --- the sink's thread ---
    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                image = self.slot.get(timeout=POLL_S)
                if not self._on.is_set():
                    self._close()  # switched off: free the device for other apps
                elif image is not None:
                    self._send(image)
        finally:
            self._close()

    def _send(self, image: np.ndarray) -> None:
        try:
            camera = self._camera if self._camera is not None else self._open(image)
            if image.shape[1::-1] != self._size:  # the camera came back at another size
                image = cv2.resize(image, self._size, interpolation=cv2.INTER_AREA)
            camera.send(image)
        except Exception as exc:  # the rest of the app goes on without the camera
            self._fail(exc)
            return
        self.sent += 1

    def _open(self, image: np.ndarray) -> VirtualCamera:
        height, width = image.shape[:2]
        camera = self.open_camera(width, height, self.fps)
        self._camera, self._size = camera, (width, height)
        self.device = str(getattr(camera, "device", "") or "")
        log.info(
            "virtual camera on%s: %dx%d at %g fps",
            f" ({self.device})" if self.device else "",
            width,
            height,
            self.fps,
        )
        return camera

    def _fail(self, exc: Exception) -> None:
        """Switch off and say why, once: frames that come after are not sent, so not failed."""
        self._on.clear()
        if isinstance(exc, LivestyleError):
            message = str(exc)
            log.warning(message)
        else:
            message = f"virtual camera stopped: {error_text(exc)}"
            self.error_log = keep_traceback(exc, self.name)
            log.error(message)
        self._close()
        self.failures += 1
        # Tell the owner first, so whoever sees `error` also sees the owner's reaction.
        self.on_error(message)
        self.error = message

    def _close(self) -> None:
        camera, self._camera = self._camera, None
        if camera is None:
            return
        try:
            camera.close()
        except Exception as exc:  # it is off either way; a failed close is only noted
            log.warning("closing the virtual camera failed: %s", exc)
        log.info("virtual camera off (%d frames sent)", self.sent)
