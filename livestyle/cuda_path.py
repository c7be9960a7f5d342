"""The GPU fast path: the whole frame (uint8 in, uint8 out) replayed from CUDA graphs.

Per frame the host does one memcpy into a pinned buffer and launches three things on three
streams: the upload, one graph replay (colour conversion, resize, network in half
precision with channels-last memory, resize back, blend, rounding), the download. Two
buffer slots let the upload of frame k+1 and the download of frame k-1 overlap the compute
of frame k when the caller keeps two frames in flight (`submit` then `result`).

A graph has static shapes, so one is captured per (style, frame size, network size, blend)
and kept in a small LRU cache: a new size or style is captured once (a few warm-up runs,
which also let cudnn.benchmark pick its kernels), switching back is free.

Roofline: the standard network costs 2 * MACs = about 0.64 TFLOP per 1920x1080 frame
(94 GFLOP at 640x480; `livestyle.bench.network_flops`), so a GPU with ~400 TFLOP/s of
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
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import cv2
import numpy as np
import torch
from torch import nn

from .inference import bgr_to_input, output_to_bgr, stylize_frame
from .model import ConvLayer

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")


# --- half precision instance norm ---


class Float32StatsNorm(nn.Module):
    """Instance norm of half/bfloat16 activations computed in float32, cast back.

    Sums of squares over a 1080p plane leave half precision's range and resolution; this
    keeps mean, variance and the normalization in float32 at the cost of one float32
    temporary per norm layer.
    """

    def __init__(self, norm: nn.InstanceNorm2d) -> None:
        super().__init__()
        self.eps = norm.eps
        self.weight = norm.weight
        self.bias = norm.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()
        var, mean = torch.var_mean(x32, dim=(2, 3), keepdim=True, correction=0)
        y = (x32 - mean) * torch.rsqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight.float().view(1, -1, 1, 1) + self.bias.float().view(1, -1, 1, 1)
        return y.to(x.dtype)


def with_float32_norm(model: nn.Module) -> nn.Module:
    """A copy of `model` whose instance norms keep their statistics in float32."""
    model = copy.deepcopy(model)
    for layer in model.modules():
        if isinstance(layer, ConvLayer) and isinstance(layer.norm, nn.InstanceNorm2d):
            layer.norm = Float32StatsNorm(layer.norm)
    return model


# --- precision check ---


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images in dB (inf when identical)."""
    mse = float(np.mean((reference.astype(np.float64) - image.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse))


def load_photos(folder: Path, long_side: int) -> list[np.ndarray]:
    """Every photo in `folder` as BGR uint8, scaled down so its long side is `long_side`."""
    photos = []
    for path in sorted(folder.iterdir()):
        image = cv2.imread(str(path)) if path.suffix.lower() in PHOTO_SUFFIXES else None
        if image is None:
            continue
        scale = min(1.0, long_side / max(image.shape[:2]))
        if scale < 1.0:
            size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        photos.append(image)
    return photos


@torch.inference_mode()
def precision_psnr(
    model: nn.Module,
    photos: Sequence[np.ndarray],
    device: torch.device,
    dtype: torch.dtype,
    float32_norm: bool = False,
) -> list[float]:
    """PSNR (dB) of each photo stylized in `dtype` against the same network in float32.

    Compared as the uint8 pictures a user sees. On CUDA use float16; on the CPU bfloat16
    serves as a smoke test of the same code.
    """
    reference = copy.deepcopy(model).to(device, torch.float32).eval()
    low = with_float32_norm(model) if float32_norm else copy.deepcopy(model)
    low = low.to(device, dtype).eval()
    if device.type == "cuda":
        low = low.to(memory_format=torch.channels_last)
    scores = []
    for photo in photos:
        frame = torch.from_numpy(np.ascontiguousarray(photo)).to(device)
        expected = output_to_bgr(reference(bgr_to_input(frame, torch.float32)))
        got = output_to_bgr(low(bgr_to_input(frame, dtype)))
        scores.append(psnr(expected.cpu().numpy(), got.cpu().numpy()))
    return scores


# --- graph cache (pure Python) ---


@dataclass(frozen=True)
class GraphKey:
    """Everything a captured frame graph fixes: change any of it and a new graph is needed."""

    style: int
    frame_shape: tuple[int, int]
    net_shape: tuple[int, int]
    blend: bool


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


# --- CUDA plumbing with CPU stand-ins ---


class _NoEvent:
    """Stands in for torch.cuda.Event on the CPU, where every operation is already done."""

    def record(self, stream: object = None) -> None:
        pass

    def synchronize(self) -> None:
        pass


def _event(device: torch.device, blocking: bool = False) -> torch.cuda.Event | _NoEvent:
    # A blocking event lets the host thread sleep while it waits instead of spinning a core.
    return torch.cuda.Event(blocking=blocking) if device.type == "cuda" else _NoEvent()


def _stream(device: torch.device) -> torch.cuda.Stream | None:
    return torch.cuda.Stream(device) if device.type == "cuda" else None


def _on(stream: torch.cuda.Stream | None) -> contextlib.AbstractContextManager:
    return torch.cuda.stream(stream) if stream is not None else contextlib.nullcontext()


def _wait(stream: torch.cuda.Stream | None, event: torch.cuda.Event | _NoEvent) -> None:
    if stream is not None:
        stream.wait_event(event)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def capture_graph(
    step: Callable[[], None], device: torch.device, warmup: int = 3
) -> Callable[[], None]:
    """`step` recorded as a CUDA graph; returns its replay. On the CPU, `step` itself.

    Warm-up runs on a side stream first (the documented recipe): they allocate what the
    graph will reuse and let cudnn.benchmark choose kernels outside the capture.
    """
    if device.type != "cuda":
        return step
    side = torch.cuda.Stream(device)
    side.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(side):
        for _ in range(warmup):
            step()
    torch.cuda.current_stream(device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay  # the bound method keeps the graph (and its memory pool) alive


@dataclass
class _Captured:
    """One captured frame graph and the static buffers it reads and writes."""

    replay: Callable[[], None]
    frame_in: torch.Tensor  # (H, W, 3) uint8
    frame_out: torch.Tensor  # (H, W, 3) uint8
    strength: torch.Tensor | None  # 0-dim, compute dtype; None: full style, no blend


@dataclass
class _Slot:
    """Host and device buffers of one frame in flight."""

    pinned_in: torch.Tensor
    device_in: torch.Tensor
    device_out: torch.Tensor
    pinned_out: torch.Tensor
    uploaded: torch.cuda.Event | _NoEvent
    consumed: torch.cuda.Event | _NoEvent
    computed: torch.cuda.Event | _NoEvent
    done: torch.cuda.Event | _NoEvent
    ticket: int | None = None


class CudaFrameRunner:
    """Stylizes BGR uint8 frames on the GPU from captured graphs, up to two frames in flight.

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
        channels_last: bool = True,
    ) -> None:
        self.models = list(models)
        self.device = device
        self.dtype = dtype
        self.warmup = warmup
        self.channels_last = channels_last
        self.graphs: GraphCache[GraphKey, _Captured] = GraphCache(
            self._capture, capacity, on_evict=lambda key, entry: _synchronize(self.device)
        )
        self._upload = _stream(device)
        self._compute = _stream(device)
        self._download = _stream(device)
        self._slots: list[_Slot] = []
        self._shape: tuple[int, int] | None = None
        self._next_ticket = 0
        self._ready: dict[int, np.ndarray] = {}

    # --- graphs ---
    def _capture(self, key: GraphKey) -> _Captured:
        log.debug("capturing a frame graph for %s", key)
        _synchronize(self.device)  # nothing in flight may touch memory while we capture
        height, width = key.frame_shape
        frame_in = torch.zeros((height, width, 3), dtype=torch.uint8, device=self.device)
        frame_out = torch.empty_like(frame_in)
        strength = torch.ones((), dtype=self.dtype, device=self.device) if key.blend else None
        model = self.models[key.style]

        def step() -> None:
            frame_out.copy_(
                stylize_frame(
                    frame_in, model, self.dtype, key.net_shape, strength, self.channels_last
                )
            )

        return _Captured(
            capture_graph(step, self.device, self.warmup), frame_in, frame_out, strength
        )

    # --- buffers ---
    def _ensure_slots(self, shape: tuple[int, int]) -> None:
        if self._shape == shape:
            return
        self._collect_all()  # results of the old size stay readable
        _synchronize(self.device)
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
                _event(self.device),
                _event(self.device),
                _event(self.device),
                _event(self.device, blocking=True),
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
        self, frame: np.ndarray, style: int, net_shape: tuple[int, int], strength: float = 1.0
    ) -> int:
        """Start stylizing `frame`; returns a ticket for `result`."""
        height, width = frame.shape[:2]
        key = GraphKey(style, (height, width), tuple(net_shape), strength < 1.0)
        entry = self.graphs.get(key)
        self._ensure_slots((height, width))
        ticket = self._next_ticket
        self._next_ticket += 1
        slot = self._slots[ticket % self.SLOTS]
        self._collect(slot)
        slot.done.synchronize()  # its last download finished: both host buffers are free
        slot.pinned_in.copy_(torch.from_numpy(np.ascontiguousarray(frame)))
        with _on(self._upload):
            _wait(self._upload, slot.consumed)
            slot.device_in.copy_(slot.pinned_in, non_blocking=True)
            slot.uploaded.record(self._upload)
        with _on(self._compute):
            _wait(self._compute, slot.uploaded)
            entry.frame_in.copy_(slot.device_in)
            slot.consumed.record(self._compute)
            if entry.strength is not None:
                entry.strength.fill_(strength)
            entry.replay()
            slot.device_out.copy_(entry.frame_out)
            slot.computed.record(self._compute)
        with _on(self._download):
            _wait(self._download, slot.computed)
            slot.pinned_out.copy_(slot.device_out, non_blocking=True)
            slot.done.record(self._download)
        slot.ticket = ticket
        return ticket

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
        self, frame: np.ndarray, style: int, net_shape: tuple[int, int], strength: float = 1.0
    ) -> np.ndarray:
        return self.result(self.submit(frame, style, net_shape, strength))

    def pipelined(
        self, frames: Iterator[np.ndarray], style: int, net_shape: tuple[int, int]
    ) -> Iterator[np.ndarray]:
        """Stylize a stream with two frames in flight: yields results in order, one behind."""
        pending: int | None = None
        for frame in frames:
            ticket = self.submit(frame, style, net_shape)
            if pending is not None:
                yield self.result(pending)
            pending = ticket
        if pending is not None:
            yield self.result(pending)
