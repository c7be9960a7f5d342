"""What CUDA graphs need around them: a small LRU cache of captured graphs, and the streams
and events that order copies and replays (no-ops off CUDA, so the same code runs in tests on
the CPU)."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import torch

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class GraphCache(Generic[K, V]):
    """Least-recently-used cache that builds an entry on a miss and reports evictions."""

    def __init__(
        self,
        build: Callable[[K], V],
        capacity: int = 4,
        on_evict: Callable[[K, V], None] = lambda key, value: None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._build = build
        self._on_evict = on_evict
        self.capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()
        self.builds = 0

    def get(self, key: K) -> V:
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        while len(self._entries) >= self.capacity:
            old_key, old_value = self._entries.popitem(last=False)
            self._on_evict(old_key, old_value)
        value = self._build(key)
        self.builds += 1
        self._entries[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        while self._entries:
            self._on_evict(*self._entries.popitem(last=False))


class NoEvent:
    """Stands in for torch.cuda.Event on the CPU, where every operation is already done."""

    def record(self, stream: object = None) -> None:
        pass

    def synchronize(self) -> None:
        pass


def new_event(device: torch.device, blocking: bool = False) -> torch.cuda.Event | NoEvent:
    # A blocking event lets the host thread sleep while it waits instead of spinning a core.
    return torch.cuda.Event(blocking=blocking) if device.type == "cuda" else NoEvent()


def new_stream(device: torch.device) -> torch.cuda.Stream | None:
    return torch.cuda.Stream(device) if device.type == "cuda" else None


def on_stream(stream: torch.cuda.Stream | None) -> contextlib.AbstractContextManager:
    return torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext()


def wait_for(stream: torch.cuda.Stream | None, event: torch.cuda.Event | NoEvent) -> None:
    if stream is not None:
        stream.wait_event(event)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
