"""What CUDA graphs need around them: a small LRU cache of captured graphs, the streams and
events that order copies and replays (no-ops off CUDA, so the same code runs in tests on the
CPU), and the capture itself, with a replay that keeps alive what the graph reads."""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
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


def capture_graph(
    step: Callable[[], None], device: torch.device, warmup: int = 3
) -> torch.cuda.CUDAGraph | None:
    """`step` recorded as a CUDA graph (None on the CPU, where the step runs as it is).

    Warm-up runs on a side stream first (the documented recipe): they allocate what the
    graph will reuse and let cudnn.benchmark choose kernels outside the capture.
    """
    if device.type != "cuda":
        return None
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(warmup):
            step()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph


@dataclass(frozen=True)
class GraphReplay:
    """A captured graph with the step it was captured from.

    The graph reads what the step closes over (the network's weights, its input) by address.
    Holding the step holds those tensors: freed, their memory would be cached for other
    tensors, and the next capture's empty_cache (torch.cuda.graph does one on entry) could
    hand it back to the driver, so a replay read unmapped memory. That was the illegal memory
    access that ended `livestyle bench` on the first GPU (H200, 2026-12-04): its graph rows
    were captured from networks the next row's assignment freed.
    """

    graph: torch.cuda.CUDAGraph
    step: Callable[[], None]

    def __call__(self) -> None:
        self.graph.replay()


def graph_replay(step: Callable[[], None], device: torch.device, warmup: int = 3) -> Callable:
    """The replay of `step` captured as a graph (`step` itself on the CPU)."""
    graph = capture_graph(step, device, warmup)
    return step if graph is None else GraphReplay(graph, step)
