"""The GPU fast path: the whole frame (uint8 in, uint8 out) replayed from CUDA graphs.

Per frame the host does one memcpy into a pinned buffer and launches three things on three
streams: the upload, one graph replay (colour conversion, resize, network in half
precision, resize back, blend, rounding), the download. Two
buffer slots let the upload of frame k+1 and the download of frame k-1 overlap the compute
of frame k when the caller keeps two frames in flight (`submit` then `result`).

A graph has static shapes, so one is captured per (network shape, frame size, network input
size) and kept in a small LRU cache: a new size is captured once (a few warm-up runs, which
also let cudnn.benchmark pick its kernels). Styles, strength and original colours are data:
a swap copies the style's parameters into the one live network the graph reads, the strength
and the colour choice are device scalars, so none of them ever recaptures.

Failures: a capture that fails raises GraphCaptureError (CudaEngine runs that size eagerly
and says so); an error that poisons the CUDA context raises DeviceFailure (the run ends with
one clear line); out of memory raises OutOfMemory (engines.base), and the caller frees every
graph pool (`release`) before it retries at a smaller size.

Roofline: the standard network costs 2 * MACs = about 0.64 TFLOP per 1920x1080 frame
(94 GFLOP at 640x480; `livestyle.bench.timing.network_flops`), so a GPU with ~400 TFLOP/s of
usable fp16 tensor throughput is bounded near 600 frames/s by arithmetic. In practice the
3-channel 9x9 convolutions at full resolution, instance norm and reflection padding are
bound by memory traffic (each full-resolution 32-channel fp16 activation at 1080p is
133 MB), so expect a few hundred frames/s, not the arithmetic bound.

Everything that needs CUDA is behind `device.type == "cuda"`; on the CPU the same runner
runs the same body eagerly with no-op streams and events, which is how the tests check the
slot, ticket and cache logic without a GPU.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from livestyle.core.errors import GraphCaptureError, device_failure, is_sticky_cuda_error
from livestyle.engines.base import Engine
from livestyle.engines.eager import EagerEngine
from livestyle.engines.frames import stylize_frame
from livestyle.engines.graphs import (
    GraphCache,
    NoEvent,
    capture_graph,
    new_event,
    new_stream,
    on_stream,
    synchronize,
    wait_for,
)
from livestyle.engines.mix import Mix, as_mix, blend_into, dominant
from livestyle.model import NetConfig, norm_parameters

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphKey:
    """Everything a captured frame graph fixes: the network's shape and the sizes.

    Not the style, the strength or the colour choice: those are data copied into the graph's
    static buffers before a replay, so changing them never recaptures."""

    network: NetConfig
    frame_shape: tuple[int, int]
    net_shape: tuple[int, int]


@dataclass
class _Captured:
    """One captured frame graph and the static buffers it reads and writes."""

    graph: torch.cuda.CUDAGraph | None  # None on the CPU: `step` runs eagerly
    step: Callable[[], None]
    frame_in: torch.Tensor  # (H, W, 3) uint8
    frame_out: torch.Tensor  # (H, W, 3) uint8
    strength: torch.Tensor  # 0-dim, compute dtype; 1 is the full style
    preserve_color: torch.Tensor  # 0-dim, compute dtype; 1 keeps the frame's colours, 0 not
    guided: torch.Tensor  # 0-dim, compute dtype; 1 adds the frame's fine detail, 0 not

    def replay(self) -> None:
        if self.graph is None:
            self.step()
        else:
            self.graph.replay()

    def release(self) -> None:
        if self.graph is not None:
            self.graph.reset()  # frees the graph's private memory pool now, not at GC
            self.graph = None


class StyleBank:
    """Every style of one network shape as parameter tensors on the device, and the one live
    network the graphs run: selecting a style copies its parameters into the live network
    (a few MB device to device, ordered on the compute stream), so graphs never change."""

    def __init__(self, models: Sequence[nn.Module]) -> None:
        self.live = copy.deepcopy(models[0])
        self._live = list(self.live.parameters())
        self._styles = [list(model.parameters()) for model in models]
        for params in self._styles:
            if [p.shape for p in params] != [p.shape for p in self._live]:
                raise ValueError("every style of a bank must have the same network shape")
        norms = {id(p) for _, p in norm_parameters(self.live)}
        # Positions of the norm scales and shifts: all a blend of styles changes.
        self._norms = [i for i, p in enumerate(self._live) if id(p) in norms]
        self.loaded: int | Mix = 0
        self.swaps = 0

    @torch.no_grad()
    def load(self, style: int | Mix) -> None:
        """Make style `style` (a bank position, or a blend of positions whose styles share a
        body) the live one, on the current stream."""
        if style == self.loaded:
            return
        mix = as_mix(style)
        torch._foreach_copy_(self._live, self._styles[dominant(mix)])
        if len(mix) > 1:
            norms = [[params[i] for i in self._norms] for params in self._styles]
            blend_into([self._live[i] for i in self._norms], norms, mix)
        self.loaded = style
        self.swaps += 1


@dataclass
class _Slot:
    """Host and device buffers of one frame in flight."""

    pinned_in: torch.Tensor
    device_in: torch.Tensor
    device_out: torch.Tensor
    pinned_out: torch.Tensor
    uploaded: torch.cuda.Event | NoEvent
    consumed: torch.cuda.Event | NoEvent
    computed: torch.cuda.Event | NoEvent
    done: torch.cuda.Event | NoEvent
    ticket: int | None = None


class CudaFrameRunner:
    """Stylizes BGR uint8 frames on the GPU from captured graphs, up to two frames in flight.

    One graph per (network shape, frame size, network input size); styles of the same
    network shape share it through a StyleBank, and the strength and the colour choice are
    device scalars, so swapping styles or changing either never recaptures. The graph
    computes both the painting's colours and the frame's (a few elementwise passes, cheap on
    a GPU) and the colour scalar picks one.

    `stylize` is synchronous; `submit` + `result` keep a second frame in flight so copies
    and compute of consecutive frames overlap (one frame more latency, more throughput).
    Call from one thread.
    """

    SLOTS = 2

    def __init__(
        self,
        models: Sequence[nn.Module],
        device: torch.device,
        dtype: torch.dtype,
        *,
        capacity: int = 4,
        warmup: int = 3,
        channels_last: bool = False,
    ) -> None:
        self.device = device
        self.dtype = dtype
        self.warmup = warmup
        self.channels_last = channels_last
        self.banks: dict[NetConfig, StyleBank] = {}
        # Style index -> (its bank, its index in the bank).
        self._where: list[tuple[StyleBank, int]] = []
        self._group(models)
        self.graphs: GraphCache[GraphKey, _Captured] = GraphCache(
            self._capture, capacity, on_evict=self._evict
        )
        self._upload = new_stream(device)
        self._compute = new_stream(device)
        self._download = new_stream(device)
        self._slots: list[_Slot] = []
        self._shape: tuple[int, int] | None = None
        self._next_ticket = 0
        self._ready: dict[int, np.ndarray] = {}

    def _group(self, models: Sequence[nn.Module]) -> None:
        by_config: dict[NetConfig, list[int]] = {}
        for i, model in enumerate(models):
            by_config.setdefault(model.config, []).append(i)
        self._where = [None] * len(models)  # type: ignore[list-item]
        for config, indices in by_config.items():
            bank = StyleBank([models[i] for i in indices])
            self.banks[config] = bank
            for position, i in enumerate(indices):
                self._where[i] = (bank, position)

    @property
    def captures(self) -> int:
        return self.graphs.builds

    @property
    def swaps(self) -> int:
        return sum(bank.swaps for bank in self.banks.values())

    # --- graphs ---
    def _capture(self, key: GraphKey) -> _Captured:
        log.debug("capturing a frame graph for %s", key)
        synchronize(self.device)  # nothing in flight may touch memory while we capture
        height, width = key.frame_shape
        frame_in = torch.zeros((height, width, 3), dtype=torch.uint8, device=self.device)
        frame_out = torch.empty_like(frame_in)
        strength = torch.ones((), dtype=self.dtype, device=self.device)
        preserve = torch.zeros((), dtype=self.dtype, device=self.device)
        guided = torch.zeros((), dtype=self.dtype, device=self.device)
        model = self.banks[key.network].live

        def step() -> None:
            frame_out.copy_(
                stylize_frame(
                    frame_in,
                    model,
                    self.dtype,
                    key.net_shape,
                    strength,
                    self.channels_last,
                    preserve_color=preserve,
                    guided=guided,
                )
            )

        try:
            graph = capture_graph(step, self.device, self.warmup)
        except torch.cuda.OutOfMemoryError:
            raise
        except RuntimeError as exc:
            if is_sticky_cuda_error(exc):
                raise device_failure(exc) from exc
            raise GraphCaptureError(f"graph capture failed for {key}: {exc}") from exc
        return _Captured(graph, step, frame_in, frame_out, strength, preserve, guided)

    def _evict(self, key: GraphKey, entry: _Captured) -> None:
        synchronize(self.device)  # a replay in flight may still use its pool
        entry.release()

    def release(self) -> None:
        """Free every graph and buffer (after an out-of-memory error, before a retry)."""
        with contextlib.suppress(RuntimeError):
            self._collect_all()
        self.graphs.clear()
        self._slots, self._shape, self._ready = [], None, {}
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    # --- buffers ---
    def _ensure_slots(self, shape: tuple[int, int]) -> None:
        if self._shape == shape:
            return
        self._collect_all()  # results of the old size stay readable
        synchronize(self.device)
        pinned = self.device.type == "cuda"
        full = (*shape, 3)

        def host() -> torch.Tensor:
            return torch.empty(full, dtype=torch.uint8, pin_memory=pinned)

        def dev() -> torch.Tensor:
            return torch.empty(full, dtype=torch.uint8, device=self.device)

        self._slots = [
            _Slot(
                host(),
                dev(),
                dev(),
                host(),
                new_event(self.device),
                new_event(self.device),
                new_event(self.device),
                new_event(self.device, blocking=True),
            )
            for _ in range(self.SLOTS)
        ]
        self._shape = shape

    def _collect(self, slot: _Slot) -> None:
        """Move a finished but unread result out of its slot so the slot can be reused."""
        if slot.ticket is None:
            return
        slot.done.synchronize()
        self._ready[slot.ticket] = slot.pinned_out.numpy().copy()
        slot.ticket = None

    def _collect_all(self) -> None:
        for slot in self._slots:
            self._collect(slot)

    # --- frames ---
    @torch.inference_mode()
    def submit(
        self,
        frame: np.ndarray,
        style: int | Mix,
        net_shape: tuple[int, int],
        strength: float = 1.0,
        preserve_color: bool = False,
        guided: bool = False,
    ) -> int:
        """Start stylizing `frame`; returns a ticket for `result`."""
        height, width = frame.shape[:2]
        mix = as_mix(style)
        bank, _ = self._where[mix[0][0]]
        position = self._bank_style(bank, mix)
        key = GraphKey(bank.live.config, (height, width), tuple(net_shape))
        entry = self.graphs.get(key)
        self._ensure_slots((height, width))
        ticket = self._next_ticket
        self._next_ticket += 1
        slot = self._slots[ticket % self.SLOTS]
        self._collect(slot)
        slot.done.synchronize()  # its last download finished: both host buffers are free
        slot.pinned_in.copy_(torch.from_numpy(np.ascontiguousarray(frame)))
        with on_stream(self._upload):
            wait_for(self._upload, slot.consumed)
            slot.device_in.copy_(slot.pinned_in, non_blocking=True)
            slot.uploaded.record(self._upload)
        with on_stream(self._compute):
            wait_for(self._compute, slot.uploaded)
            entry.frame_in.copy_(slot.device_in)
            slot.consumed.record(self._compute)
            # Stream order puts these after the previous replay has read the old values.
            bank.load(position)
            entry.strength.fill_(strength)
            entry.preserve_color.fill_(1.0 if preserve_color else 0.0)
            entry.guided.fill_(1.0 if guided else 0.0)
            entry.replay()
            slot.device_out.copy_(entry.frame_out)
            slot.computed.record(self._compute)
        with on_stream(self._download):
            wait_for(self._download, slot.computed)
            slot.pinned_out.copy_(slot.device_out, non_blocking=True)
            slot.done.record(self._download)
        slot.ticket = ticket
        return ticket

    def _bank_style(self, bank: StyleBank, mix: Mix) -> int | Mix:
        """A style index (or blend) in the engine's numbering as the bank's positions."""
        positions = []
        for index, weight in mix:
            where, position = self._where[index]
            if where is not bank:
                raise ValueError("a blend of styles must stay within one network shape")
            positions.append((position, weight))
        return positions[0][0] if len(positions) == 1 else tuple(positions)

    def result(self, ticket: int) -> np.ndarray:
        """The stylized frame of `ticket` (waits for it); each ticket is read once."""
        if ticket in self._ready:
            return self._ready.pop(ticket)
        for slot in self._slots:
            if slot.ticket == ticket:
                self._collect(slot)
                return self._ready.pop(ticket)
        raise KeyError(f"no pending frame with ticket {ticket}")

    def stylize(
        self,
        frame: np.ndarray,
        style: int | Mix,
        net_shape: tuple[int, int],
        strength: float = 1.0,
        preserve_color: bool = False,
        guided: bool = False,
    ) -> np.ndarray:
        return self.result(self.submit(frame, style, net_shape, strength, preserve_color, guided))


class CudaEngine(Engine):
    """The frame graphs of CudaFrameRunner, with eager PyTorch for the sizes they fail at.

    A capture that fails runs that (frame, network) size eagerly from then on, said in the
    log and through `on_notice` (the overlay); a new size tries a graph again. With
    `graph_fallback=False` the failure raises instead (the GPU tests and benchmarks).
    Its eager engine sets cuDNN to autotune for the fixed frame sizes; out of memory and
    sticky CUDA errors leave it as the base class says (OutOfMemory, DeviceFailure).
    """

    name = "cuda-graph"

    def __init__(
        self,
        models: list[nn.Module],
        device: torch.device,
        dtype: torch.dtype,
        channels_last: bool = False,
        layout_norm: bool = True,
        graph_fallback: bool = True,
        on_notice: Callable[[str], None] = lambda message: None,
    ) -> None:
        # The eager engine prepares the networks once; the graphs read the same ones.
        self.eager = EagerEngine(models, device, dtype, channels_last, layout_norm)
        self.runner = CudaFrameRunner(self.eager.models, device, dtype, channels_last=channels_last)
        self.graph_fallback = graph_fallback
        self.on_notice = on_notice
        self._eager_shapes: set[tuple[tuple[int, int], tuple[int, int]]] = set()

    @property
    def captures(self) -> int:
        return self.runner.captures

    def _stylize(
        self,
        frame: np.ndarray,
        style: int | Mix,
        net_shape: tuple[int, int],
        strength: float,
        *,
        preserve_color: bool = False,
        guided: bool = False,
    ) -> np.ndarray:
        shapes = (frame.shape[:2], tuple(net_shape))
        if shapes not in self._eager_shapes:
            try:
                return self.runner.stylize(
                    frame, style, net_shape, strength, preserve_color, guided
                )
            except GraphCaptureError as exc:
                if not self.graph_fallback:
                    raise
                self._eager_shapes.add(shapes)  # type: ignore[arg-type]
                self._say_fallback(frame, exc)
        return self.eager._stylize(
            frame, style, net_shape, strength, preserve_color=preserve_color, guided=guided
        )

    def _say_fallback(self, frame: np.ndarray, exc: GraphCaptureError) -> None:
        height, width = frame.shape[:2]
        message = (
            f"CUDA graph capture failed at {width}x{height} ({exc.__cause__ or exc}): "
            "running this size without graphs (slower)"
        )
        log.warning(message)
        self.on_notice(message)

    def release(self) -> None:
        """Free every graph, its memory pool and the cached blocks (after out of memory)."""
        self.runner.release()
        self.eager.release()
