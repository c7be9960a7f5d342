"""The latest-frame slot between capture and inference, and the frame it carries."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass
class Frame:
    """One captured frame. `pts` is its time in the stream (seconds from the first frame),
    `captured_at` the monotonic clock when it was read (for latency)."""

    image: np.ndarray
    index: int
    pts: float
    captured_at: float


class LatestSlot(Generic[T]):
    """A one-item mailbox: `put` replaces what is there, `get` waits for something new.

    Replacing an item nobody took counts as a drop. `close` wakes a waiting consumer; after
    it, `get` returns what is left once and then None.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.dropped = 0
        self.put_count = 0

    def put(self, item: T) -> bool:
        """Store item; True when it replaced one that was never taken (a drop)."""
        with self._cond:
            replaced = self._item is not None
            if replaced:
                self.dropped += 1
            self._item = item
            self.put_count += 1
            self._cond.notify_all()
            return replaced

    def get(self, timeout: float | None = None) -> T | None:
        """The newest item, waiting up to `timeout`; None on timeout or when closed and empty."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        """1 while an item waits to be taken, else 0 (for monitoring)."""
        return 0 if self._item is None else 1

    def exhausted(self) -> bool:
        """Closed and nothing left to take."""
        with self._cond:
            return self._closed and self._item is None
