"""Errors a user can fix: the CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class LivestyleError(Exception):
    """A problem with the user's input or environment, with a message that says what to do."""

    exit_code = 2


class WeightsError(LivestyleError):
    """A weights file that is missing, corrupt or does not match the network."""


class SourceError(LivestyleError):
    """A camera, video file or stream that cannot be opened or read."""


class OutputError(LivestyleError):
    """An output path that cannot be written."""


class TooLargeError(LivestyleError):
    """An image or frame whose work would not fit in the memory there is (livestyle.memory)."""


class VirtualCamError(LivestyleError):
    """No virtual camera to send to: pyvirtualcam or the device (v4l2loopback, OBS) missing."""


class GraphCaptureError(RuntimeError):
    """A CUDA frame graph could not be captured (the eager path can still run that size)."""


class OutOfMemory(RuntimeError):
    """The device ran out of memory for a frame (every engine raises this one type): the
    live view frees what the engine holds and runs the network smaller."""


class DeviceFailure(LivestyleError):
    """The GPU hit an error that poisons its context: nothing more can run on it."""

    exit_code = 1  # not the user's input: the run failed


# Errors after which CUDA refuses every further call in the process ("sticky" errors).
STICKY_CUDA_ERRORS = (
    "illegal memory access",
    "device-side assert",
    "unspecified launch failure",
    "misaligned address",
    "illegal instruction",
    "uncorrectable ecc",
    "hardware stack error",
    "gpu has fallen off the bus",
    "launch timed out",
)


def is_sticky_cuda_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "cuda" in text and any(marker in text for marker in STICKY_CUDA_ERRORS)


def device_failure(exc: BaseException) -> DeviceFailure:
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DeviceFailure(
        f"the GPU failed ({first_line}); no more frames can run on it in this process: "
        "restart livestyle (or run it with --device cpu)"
    )


def error_text(exc: BaseException) -> str:
    """One line for an error from a thread: a bug's type (KeyError) is part of what to report."""
    if isinstance(exc, LivestyleError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def failure_reason(exc: BaseException) -> str:
    """Why a write failed, as the user reads it: the OS's reason (No space left on device),
    from the error or the one it was raised from, else the error's first line."""
    for error in (exc.__cause__, exc):
        if isinstance(error, OSError) and error.strerror:
            return error.strerror
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
