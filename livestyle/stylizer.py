"""The Stylizer: which styles are loaded, which one is chosen, how strong, in whose colours
and how large.

Frames are BGR uint8 arrays (OpenCV's layout) in and out. The Stylizer holds the user's
choices (style, strength, original colours, bolder marks, network input size) under one lock
and hands each frame to an engine (livestyle.engines) that runs the networks on the device: on CUDA
"auto" replays the whole frame from CUDA graphs in half precision, on the CPU it runs ONNX
Runtime when installed, and "torch" is plain PyTorch eager everywhere.

The choices may change from any thread (keys in the window, the inference thread shrinking
the input after out-of-memory); each frame reads them once at its start, so a change takes
effect between frames and never tears one, and the frame says which style it was made with.

The chosen style may be a blend of styles of one multi-style network (`--style a:0.6,b:0.4`),
and a swap between such styles cross-fades over `fade_seconds` by interpolating their norm
parameters (livestyle.engines.mix); styles with different network bodies swap at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from livestyle import memory
from livestyle.brushwork import amount, bolder, clamp_marks, upscaled_share
from livestyle.core.errors import TooLargeError
from livestyle.core.precision import INT8
from livestyle.dots import dotted
from livestyle.engines import Engine, make_engine
from livestyle.engines.device import check_int8, pick_device, pick_dtype, resolve_backend
from livestyle.engines.mix import Blender, Mix, as_mix, crossfade, dominant, normalized
from livestyle.ink import inked
from livestyle.model import TransformerNet
from livestyle.sizing import NetworkSize
from livestyle.weights import StyleInfo

log = logging.getLogger(__name__)

# A swap between styles of one network cross-fades over this long: quick enough to feel
# instant on a key press, long enough that the picture does not jump.
FADE_SECONDS = 0.25


@dataclass
class LoadedStyle:
    info: StyleInfo
    model: TransformerNet  # as loaded (float32, CPU): the engine holds its own prepared copy


@dataclass(frozen=True)
class Stylized:
    """A stylized frame and the choices it was made with."""

    image: np.ndarray
    style: StyleInfo
    strength: float
    preserve_color: bool = False  # the frame's own colours, the painting's lightness


@dataclass(frozen=True)
class _Choice:
    """What one frame reads under the lock, once (the engine and style too: replace_styles
    may swap them while the frame runs)."""

    engine: Engine
    info: StyleInfo
    index: int
    style: int | Mix  # what the engine runs: one style or a blend
    strength: float
    preserve_color: bool
    guided: bool
    marks: float  # the user's (key B)
    own_marks: float  # the styles' own (StyleInfo.marks), weighted as the frame mixes them
    ink: float  # the styles' own (StyleInfo.ink), weighted alike
    colour: float  # the styles' own (StyleInfo.colour), weighted alike
    dots: float  # the styles' own (StyleInfo.dots), weighted alike
    size: NetworkSize

    def network_shape(self, height: int, width: int) -> tuple[int, int]:
        return self.size.shape(height, width, self.info.stroke_scale)


class Stylizer:
    """Every loaded style on one device, the chosen one, its strength, whether the frame keeps
    its own colours, and the network size."""

    def __init__(
        self,
        styles: list[tuple[TransformerNet, StyleInfo]],
        device: str | torch.device = "auto",
        precision: str = "auto",
        network_size: NetworkSize | None = None,
        strength: float = 1.0,
        preserve_color: bool = False,
        guided: bool = True,
        marks: float = 0.0,
        backend: str = "auto",
        channels_last: bool = False,
        graph_fallback: bool = True,
        on_notice: Callable[[str], None] | None = None,
        fade_seconds: float = FADE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        threads: int | None = None,
    ) -> None:
        if not styles:
            raise ValueError("no styles to run")
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.dtype = pick_dtype(self.device, precision)
        # NCHW everywhere: on an H200 (benchmarks/RESULTS.md, 2026-12-04) the fp16 CUDA graphs
        # ran 1.1-1.8x faster in NCHW than channels-last for both networks at every size, and
        # on the CPU `livestyle bench` measured channels-last at 0.9-1.1x.
        self.channels_last = channels_last
        # Half precision needs float32 norm statistics; channels-last needs a norm that keeps
        # the layout (PyTorch's returns NCHW). LayoutInstanceNorm does both.
        self.layout_norm = self.channels_last or self.dtype != torch.float32
        self.styles = [LoadedStyle(info, model) for model, info in styles]
        self.on_notice = on_notice or (lambda message: None)
        self._backend = resolve_backend(backend, self.device, self.dtype)
        # int8 (ONNX Runtime's CPU network): asked for, or under "auto" wherever the body's
        # pictures stay close to float32's (engines/quantize.py); None means "auto".
        self.int8: bool | None = True if precision == INT8 else None
        if precision not in ("auto", INT8):
            self.int8 = False
        self._threads = threads  # ONNX Runtime's pool; None: all cores but one (live)
        if self.int8:
            check_int8(self._backend)
        self._graph_fallback = graph_fallback
        self.engine: Engine = self._make_engine(self.styles)
        self._blender = Blender([style.model for style in self.styles])
        self.fade_seconds = fade_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._index = 0
        # The chosen mix, and while a swap fades: the mix it started from and when.
        self._mix: Mix = ((0, 1.0),)
        self._fade: tuple[Mix, float] | None = None
        self._shrunk: set[tuple[int, int]] = set()  # frame sizes said to be too large
        self._strength = 1.0
        self.strength = strength
        self._preserve_color = bool(preserve_color)
        # A network run smaller than the frame gets the frame's fine detail back as it is
        # scaled up (engines.frames.guided_upscale); off: plain bilinear scaling.
        self.guided = bool(guided)
        self._marks = clamp_marks(marks)
        # The one value that decides the network's input size (livestyle.sizing).
        self._size = network_size or NetworkSize()

    @property
    def backend(self) -> str:
        return self.engine.name

    def _make_engine(self, styles: list[LoadedStyle]) -> Engine:
        return make_engine(
            self._backend,
            [style.model for style in styles],
            self.device,
            self.dtype,
            channels_last=self.channels_last,
            layout_norm=self.layout_norm,
            graph_fallback=self._graph_fallback,
            int8=self.int8,
            threads=self._threads,
            # Late-bound: the pipeline sets on_notice after the Stylizer is built.
            on_notice=lambda message: self.on_notice(message),
        )

    def replace_styles(self, styles: list[tuple[TransformerNet, StyleInfo]]) -> None:
        """Run another set of styles from the next frame on (a painting was added: the grown
        network replaces the one it grew from). The engine is built on the calling thread,
        not the inference thread, and swapped in whole between frames; the chosen style or
        blend stays chosen, by name (else the first style)."""
        if not styles:
            raise ValueError("no styles to run")
        loaded = [LoadedStyle(info, model) for model, info in styles]
        engine = self._make_engine(loaded)
        blender = Blender([style.model for style in loaded])
        rows = {style.info.name: i for i, style in enumerate(loaded)}
        with self._lock:
            names = [(self.styles[i].info.name, w) for i, w in self._mix]
            kept = [(rows[name], w) for name, w in names if name in rows]
            self.styles, self.engine, self._blender = loaded, engine, blender
            self._fade = None  # its indices are the old list's
            self._mix = normalized(kept) if kept else ((0, 1.0),)
            self._index = dominant(self._mix)

    # --- choices (any thread) ---
    @property
    def index(self) -> int:
        return self._index

    @property
    def active(self) -> StyleInfo:
        with self._lock:  # the list and the index change together (replace_styles)
            return self.styles[self._index].info

    @property
    def mix(self) -> Mix:
        """The chosen style or blend, as (style index, weight) pairs."""
        return self._mix

    def select(self, index: int) -> None:
        with self._lock:
            self._choose(((index % len(self.styles), 1.0),))

    def step(self, delta: int) -> None:
        with self._lock:
            self._choose((((self._index + delta) % len(self.styles), 1.0),))

    def blend(self, pairs: list[tuple[int, float]], fade: bool = True) -> None:
        """Choose a blend of styles (weights are normalized); styles that cannot blend (other
        network bodies) leave the heaviest one. `fade=False` shows it from the next frame."""
        mix = normalized(pairs)
        with self._lock:
            self._choose(mix, fade)

    def _choose(self, mix: Mix, fade: bool = True) -> None:
        """Aim at `mix`, fading from what is on screen now when the styles can blend."""
        now = self._clock()
        shown = self._shown(now)
        self._fade = None
        wanted = fade and self.fade_seconds > 0
        if wanted and shown != mix and self._blendable(shown, mix):
            self._fade = (shown, now)
        self._mix = mix
        self._index = dominant(mix)

    def _blendable(self, a: Mix, b: Mix) -> bool:
        return self.can_blend([i for i, _ in (*a, *b)])

    def can_blend(self, indices: list[int]) -> bool:
        """Whether these styles share one network body (so they blend and cross-fade)."""
        return all(self._blender.can_blend(indices[0], i) for i in indices)

    def _shown(self, now: float) -> Mix:
        """The mix a frame starting at `now` shows (mid-fade: between the two)."""
        if self._fade is None:
            return self._mix
        start, started = self._fade
        t = (now - started) / self.fade_seconds
        if t >= 1.0:
            self._fade = None
            return self._mix
        return crossfade(start, self._mix, t)

    def find(self, name: str) -> int:
        for i, style in enumerate(list(self.styles)):
            if style.info.name == name:
                return i
        raise KeyError(name)

    @property
    def strength(self) -> float:
        return self._strength

    @strength.setter
    def strength(self, value: float) -> None:
        with self._lock:
            self._strength = min(1.0, max(0.0, float(value)))

    @property
    def preserve_color(self) -> bool:
        """Keep the frame's own colours and take only the painting's lightness (key C)."""
        return self._preserve_color

    @preserve_color.setter
    def preserve_color(self, value: bool) -> None:
        with self._lock:
            self._preserve_color = bool(value)

    @property
    def marks(self) -> float:
        """How much bolder the user makes the network's marks (livestyle.brushwork; key B),
        beyond the style's own (StyleInfo.marks)."""
        return self._marks

    @marks.setter
    def marks(self, value: float) -> None:
        with self._lock:
            self._marks = clamp_marks(value)

    @property
    def network_size(self) -> NetworkSize:
        """What decides the network's input size (livestyle.sizing); swapped whole, so no
        frame sees half of a change."""
        return self._size

    @network_size.setter
    def network_size(self, value: NetworkSize) -> None:
        with self._lock:
            self._size = value

    def network_shape(self, height: int, width: int) -> tuple[int, int]:
        """The network's input size for a frame of this size, with the current choices."""
        with self._lock:
            stroke_scale = self.styles[self._index].info.stroke_scale
            return self._size.shape(height, width, stroke_scale)

    def _choice(self, index: int | None) -> _Choice:
        with self._lock:
            if index is None:
                index, style = self._index, self._blender.resolve(self._shown(self._clock()))
            else:
                style = index
            return _Choice(
                self.engine,
                self.styles[index].info,  # a bad index fails here, before any work
                index,
                style,
                self._strength,
                self._preserve_color,
                self.guided,
                self._marks,
                self._weighted(style, "marks"),
                self._weighted(style, "ink"),
                self._weighted(style, "colour"),
                self._weighted(style, "dots"),
                self._size,
            )

    def _weighted(self, style: int | Mix, setting: str) -> float:
        """A style's own setting (StyleInfo.marks, .ink, .colour or .dots), weighted as the frame
        mixes the styles (a cross-fade carries one painting's into the next's)."""
        return sum(weight * getattr(self.styles[i].info, setting) for i, weight in as_mix(style))

    # --- per frame (inference thread) ---
    @torch.inference_mode()
    def stylize(self, frame: np.ndarray, index: int | None = None) -> Stylized:
        """Stylize one BGR uint8 frame with the chosen style (or `index`); same size out.

        A frame whose work would not fit in the memory there is (livestyle.memory) is
        stylized at the largest size that fits and scaled back up, said once per size; one
        that fits at no useful size raises TooLargeError before anything large is made."""
        choice = self._choice(index)
        height, width = frame.shape[:2]
        scale = self._memory_scale(choice, height, width)
        if scale >= 1.0:
            image = self._run(choice, frame)
        else:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = self._run(choice, cv2.resize(frame, size, interpolation=cv2.INTER_AREA))
            image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
        return Stylized(image, choice.info, choice.strength, choice.preserve_color)

    def _memory_scale(self, choice: _Choice, height: int, width: int) -> float:
        """1.0, or the scale at which this frame's work fits in memory (see stylize)."""

        def network_pixels(h: int, w: int) -> int:
            net_h, net_w = choice.network_shape(h, w)
            return net_h * net_w

        first_width = choice.info.config.widths[0]
        needed = memory.work_bytes(height * width, network_pixels(height, width), first_width)
        if needed <= memory.CHECK_ABOVE_BYTES:
            return 1.0  # every live frame: not worth a look at what is free
        usable = self._usable_memory()
        if usable is None or needed <= usable:
            return 1.0
        scale = memory.fitting_scale(height, width, network_pixels, first_width, usable)
        if scale <= 0.0:
            raise TooLargeError(
                f"a {width}x{height} picture needs about {needed / 2**30:.1f} GB to stylize "
                f"and only {usable / 2**30:.1f} GB is free here, too little even at "
                f"{memory.MIN_LONG_SIDE} px: close other programs or make it smaller"
            )
        if (height, width) not in self._shrunk:
            self._shrunk.add((height, width))
            log.warning(
                "a %dx%d picture needs about %.1f GB to stylize, %.1f GB is free here: "
                "stylizing it at %dx%d and scaling the result up",
                width,
                height,
                needed / 2**30,
                usable / 2**30,
                round(width * scale),
                round(height * scale),
            )
        return scale

    def _usable_memory(self) -> int | None:
        """Bytes a frame's work may take on the device: the GPU's free memory, or the host's."""
        if self.device.type == "cuda":
            free, _total = torch.cuda.mem_get_info(self.device)
            return int(free * memory.USABLE_SHARE)
        return memory.usable_bytes()

    def _run(self, choice: _Choice, frame: np.ndarray) -> np.ndarray:
        """The engine's picture of `frame`, its marks made bolder, inked and dotted if asked. Out of
        memory raises OutOfMemory (the inference thread frees memory, shrinks the network input
        and retries); a poisoned GPU, DeviceFailure (livestyle.engines.base)."""
        shape = choice.network_shape(*frame.shape[:2])
        image = choice.engine.stylize(
            frame,
            choice.style,
            shape,
            choice.strength,
            preserve_color=choice.preserve_color,
            guided=choice.guided,
        )
        # On the frame the engine returns (every engine alike), with the band scaled to the
        # strokes: the network's pixels are frame / shape times larger on screen.
        scale = max(frame.shape[:2]) / max(shape)
        image = bolder(image, amount(choice.marks, choice.own_marks, scale), scale)
        # Ink and colour are the painting's, so they fade with it (at strength 0: the frame);
        # the colour gain, like own marks, only where the picture is scaled up.
        colour = choice.colour * choice.strength * upscaled_share(scale)
        image = inked(image, frame, choice.ink * choice.strength, colour)
        # Dots too are the painting's; at every scale, as they replace the network's marks.
        return dotted(image, frame, choice.dots * choice.strength)

    def release_device_memory(self) -> None:
        """Free captured graphs, their memory pools and cached blocks (after out-of-memory)."""
        self.engine.release()

    @property
    def graph_captures(self) -> int:
        return self.engine.captures
