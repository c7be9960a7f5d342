"""The signals that end a live run cleanly (recording finalized), with exit code 128 + number."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def install_stop_handlers(on_signal: Callable[[int, object], None]) -> dict[int, object]:
    """Route every stop signal to `on_signal`; returns the handlers to restore."""
    return {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}


def restore_handlers(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)  # type: ignore[arg-type]


class StopSignal(KeyboardInterrupt):
    """A stop signal raised where the work is, as Ctrl-C raises KeyboardInterrupt: the work
    keeps what it made on the way out, and the exit code is 128 + the signal's number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block every stop signal (SIGINT, SIGTERM, SIGHUP) raises StopSignal in the
    main thread: `kill` or a shutdown ends a `stylize` as Ctrl-C does, keeping its work."""

    def interrupt(signum: int, _frame: object) -> None:
        raise StopSignal(signum)

    try:
        previous = install_stop_handlers(interrupt)
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        restore_handlers(previous)
