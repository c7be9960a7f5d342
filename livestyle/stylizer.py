"""Running style networks on frames: device choice, precision, pre/post-processing, style swaps.

Frames are BGR uint8 arrays (OpenCV's layout) in and out. On CUDA the uint8 frame goes up
through a pinned host buffer with a non-blocking copy, and the colour conversion,
normalization, resizing and strength blend all run on the device in half precision with
channels-last memory; on the CPU the same code runs in float32.

Backends (`backend=`): on CUDA, "auto" replays the whole frame from CUDA graphs
(livestyle.engines.cuda); on the CPU, "auto" runs the network in ONNX Runtime when it is
installed (livestyle.engines.onnx); "torch" is plain PyTorch eager everywhere.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from livestyle.engines.device import pick_device, pick_dtype, resolve_backend
from livestyle.engines.frames import infer_shape, stylize_frame, torch_threads
from livestyle.engines.onnx import OnnxNet, UnsupportedModel
from livestyle.errors import GraphCaptureError, device_failure, is_sticky_cuda_error
from livestyle.model import TransformerNet
from livestyle.weights import StyleInfo

log = logging.getLogger(__name__)


@dataclass
class LoadedStyle:
    info: StyleInfo
    model: TransformerNet
    # What runs the network: the model, or an ONNX Runtime session built from it.
    net: Callable[[torch.Tensor], torch.Tensor] | None = None


class Stylizer:
    """Holds every loaded style on one device and stylizes frames with the active one.

    `select`, `strength` and the inference size may change from any thread; each frame reads
    them once at its start, so a change takes effect between frames and never tears one.
    """

    def __init__(
        self,
        styles: list[tuple[TransformerNet, StyleInfo]],
        device: str | torch.device = "auto",
        precision: str = "auto",
        infer_size: int | None = None,
        infer_scale: float = 1.0,
        strength: float = 1.0,
        backend: str = "auto",
        channels_last: bool | None = None,
        graph_fallback: bool = True,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        if not styles:
            raise ValueError("no styles to run")
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.dtype = pick_dtype(self.device, precision)
        self.backend = resolve_backend(backend, self.device, self.dtype)
        # Channels-last pays on CUDA; on the CPU `livestyle bench` measured 0.9-1.1x at 640x480
        # and above, so PyTorch keeps NCHW there.
        self.channels_last = self.device.type == "cuda" if channels_last is None else channels_last
        # Half precision needs float32 norm statistics; channels-last needs a norm that keeps
        # the layout (PyTorch's returns NCHW). LayoutInstanceNorm does both.
        self.layout_norm = self.channels_last or self.dtype != torch.float32
        # False: a failed graph capture raises (tests, benchmarks) instead of running eager.
        self.graph_fallback = graph_fallback
        self.on_notice = on_notice or (lambda message: None)
        self._eager_shapes: set[tuple[tuple[int, int], tuple[int, int]]] = set()
        self.styles = [LoadedStyle(info, self._prepare(model)) for model, info in styles]
        self._attach_nets()
        self._lock = threading.Lock()
        self._index = 0
        self._strength = float(strength)
        self.infer_size = infer_size
        self.infer_scale = float(infer_scale)
        self._pinned: torch.Tensor | None = None
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed frame sizes: autotune once

    def _prepare(self, model: TransformerNet) -> TransformerNet:
        if self.layout_norm:
            from livestyle.engines.layout_norm import with_layout_norm

            model = with_layout_norm(model)
        model = model.to(self.device, self.dtype).eval()
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        for p in model.parameters():
            p.requires_grad_(False)
        return model

    def _attach_nets(self) -> None:
        """Give every style what runs its network on the chosen backend."""
        self._frames = None
        self._frame_threads: int | None = None  # torch threads for the frame ops; None: all
        if self.backend == "onnxruntime":
            try:
                for style in self.styles:
                    style.net = OnnxNet(style.model)
                self._frame_threads = 1
            except (UnsupportedModel, RuntimeError, ImportError) as exc:
                log.warning("onnxruntime backend unavailable (%s): running in PyTorch", exc)
                self.backend = "torch"
                for style in self.styles:
                    style.net = style.model
            return
        if self.backend == "cuda-graph":
            from livestyle.engines.cuda import CudaFrameRunner

            self._frames = CudaFrameRunner([s.model for s in self.styles], self.device, self.dtype)
        for style in self.styles:
            style.net = style.model

    # --- controls (any thread) ---
    @property
    def index(self) -> int:
        return self._index

    @property
    def active(self) -> StyleInfo:
        return self.styles[self._index].info

    def select(self, index: int) -> None:
        with self._lock:
            self._index = index % len(self.styles)

    def step(self, delta: int) -> None:
        with self._lock:
            self._index = (self._index + delta) % len(self.styles)

    def find(self, name: str) -> int:
        for i, style in enumerate(self.styles):
            if style.info.name == name:
                return i
        raise KeyError(name)

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        self._strength = min(1.0, max(0.0, float(value)))

    # --- per frame (inference thread) ---
    def _upload(self, frame: np.ndarray) -> torch.Tensor:
        host = torch.from_numpy(np.ascontiguousarray(frame))
        if self.device.type != "cuda":
            return host.to(self.device)
        if self._pinned is None or self._pinned.shape != host.shape:
            self._pinned = torch.empty(host.shape, dtype=torch.uint8, pin_memory=True)
        self._pinned.copy_(host)
        return self._pinned.to(self.device, non_blocking=True)

    def release_device_memory(self) -> None:
        """Free captured graphs, their memory pools and cached blocks (after out-of-memory)."""
        if self._frames is not None:
            self._frames.release()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    @property
    def graph_captures(self) -> int:
        return self._frames.captures if self._frames is not None else 0

    @torch.inference_mode()
    def stylize(self, frame: np.ndarray, index: int | None = None) -> np.ndarray:
        """Stylize one BGR uint8 frame with the active style (or `index`); same size out."""
        with self._lock:
            chosen = self._index if index is None else index
            strength = self._strength
        style = self.styles[chosen]  # a bad index fails here, before any work
        height, width = frame.shape[:2]
        net_shape = infer_shape(height, width, self.infer_size, self.infer_scale)
        try:
            if self._frames is not None and ((height, width), net_shape) not in self._eager_shapes:
                graphed = self._graph_stylize(frame, chosen, net_shape, strength)
                if graphed is not None:
                    return graphed
            return self._eager_stylize(frame, style, net_shape, strength)
        except torch.cuda.OutOfMemoryError:
            raise  # the inference thread frees memory, shrinks the network input and retries
        except RuntimeError as exc:
            if is_sticky_cuda_error(exc):
                raise device_failure(exc) from exc
            raise

    def _graph_stylize(
        self, frame: np.ndarray, chosen: int, net_shape: tuple[int, int], strength: float
    ) -> np.ndarray | None:
        """The frame from the CUDA graph path, or None when its graph cannot be captured."""
        try:
            return self._frames.stylize(frame, chosen % len(self.styles), net_shape, strength)
        except GraphCaptureError as exc:
            if not self.graph_fallback:
                raise
            # Eager for this size only, and said aloud: a new size tries a graph again.
            height, width = frame.shape[:2]
            self._eager_shapes.add(((height, width), net_shape))
            message = (
                f"CUDA graph capture failed at {width}x{height} ({exc.__cause__ or exc}): "
                "running this size without graphs (slower)"
            )
            log.warning(message)
            self.on_notice(message)
            return None

    def _eager_stylize(
        self, frame: np.ndarray, style: LoadedStyle, net_shape: tuple[int, int], strength: float
    ) -> np.ndarray:
        with torch_threads(self._frame_threads):
            out = stylize_frame(
                self._upload(frame),
                style.net if style.net is not None else style.model,
                self.dtype,
                net_shape,
                strength if strength < 1.0 else None,
                self.channels_last,
            )
            return out.cpu().numpy()
