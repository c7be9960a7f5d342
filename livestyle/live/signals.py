"""The signals that end a live run cleanly (recording finalized), with exit code 128 + number."""

from __future__ import annotations

import signal
from collections.abc import Callable

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def install_stop_handlers(on_signal: Callable[[int, object], None]) -> dict[int, object]:
    """Route every stop signal to `on_signal`; returns the handlers to restore."""
    return {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}


def restore_handlers(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)  # type: ignore[arg-type]
