"""The CPU fast path: a loaded TransformerNet run by ONNX Runtime instead of PyTorch eager.

On a small CPU, PyTorch eager spends most of the lite network's time outside the
convolutions (instance norm through batch norm, layout copies, reflection padding); ONNX
Runtime's blocked-layout kernels run the same network about twice as fast (see
benchmarks/RESULTS.md, "Speed"). The graph is written here straight from the module tree,
in memory and in milliseconds, so starting a Stylizer with many styles stays cheap; the
TorchScript exporter took about two seconds per style and is deprecated.

Only the network runs in ONNX Runtime: the Stylizer's pre/post-processing stays in torch, so
frames go through the exact same colour conversion, resizing, blending and rounding.
Padding to a multiple of 4 and the final crop happen here in torch, as in
TransformerNet.forward, so the graph only ever sees sizes the network divides evenly.
The final 3-channel 9x9 convolution is written as row convolutions plus shifted sums, which
ONNX Runtime's blocked kernels run about 1.3x faster overall (see _narrow_conv).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from livestyle.engines import session_cache
from livestyle.engines.base import Engine
from livestyle.engines.frames import torch_threads
from livestyle.engines.host_frames import HostFrames
from livestyle.engines.mix import Mix, as_mix, blend, body_key
from livestyle.engines.onnx_grain import grain_nodes
from livestyle.model import (
    SIZE_MULTIPLE,
    ConvLayer,
    DepthToSpace,
    ResidualBlock,
    SpaceToDepth,
    TransformerNet,
    UpsampleConv,
)

if TYPE_CHECKING:
    import onnx
    import onnxruntime


log = logging.getLogger(__name__)

OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "stylized"
INSTALL_HINT = "pip install 'livestyle[fast-cpu]'"
# Convolutions with fewer output channels than this are rewritten (see _narrow_conv).
NARROW = 8


class UnsupportedModel(ValueError):
    """The module tree holds a layer this converter does not know."""


def onnxruntime_available() -> bool:
    """Both halves of the backend import: onnx (to build graphs) and onnxruntime (to run)."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


@dataclass
class _Node:
    op: str
    inputs: list[str]
    output: str
    attrs: dict[str, object]


class _GraphWriter:
    """Collects ONNX nodes and initializers with unique names, as plain values: `onnx` is
    imported only where a model is made of them (graph_model), which a start that finds its
    session in the cache (engines/session_cache.py) never does (the import alone was 0.5 s).

    With `norm_inputs`, the instance norms' scales and shifts (what differs between the styles
    of one network body) become graph inputs, and their values are collected in `feeds`."""

    def __init__(self, norm_inputs: bool = False) -> None:
        self.nodes: list[_Node] = []
        self.initializers: dict[str, np.ndarray] = {}
        self.norm_inputs = norm_inputs
        self.feeds: dict[str, np.ndarray] = {}
        self._count = 0

    def fingerprint(self) -> str:
        """A hash of the graph: its nodes and constants (not the feeds' values)."""
        digest = hashlib.sha256()
        for node in self.nodes:
            digest.update(repr((node.op, node.inputs, node.output, node.attrs)).encode())
        for name, value in [*self.initializers.items(), *self.feeds.items()]:
            digest.update(f"{name}{value.dtype}{value.shape}".encode())
            if name in self.initializers:
                digest.update(value.tobytes())
        return digest.hexdigest()

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem: str, value: np.ndarray | torch.Tensor) -> str:
        if isinstance(value, torch.Tensor):
            value = value.detach().to("cpu", torch.float32).numpy()
        name = self._name(stem)
        self.initializers[name] = np.ascontiguousarray(value)
        return name

    def style_parameter(self, stem: str, value: torch.Tensor) -> str:
        """A per-style value: a graph input with `norm_inputs`, else a constant."""
        if not self.norm_inputs:
            return self.constant(stem, value)
        name = self._name(stem)
        self.feeds[name] = np.ascontiguousarray(value.detach().to("cpu", torch.float32).numpy())
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: object) -> str:
        output = output or self._name(op.lower())
        self.nodes.append(_Node(op, inputs, output, attrs))
        return output


def _pad(g: _GraphWriter, x: str, top: int, left: int, bottom: int, right: int, mode: str) -> str:
    # ONNX pads: all begins (N, C, H, W) then all ends.
    pads = g.constant("pads", np.array([0, 0, top, left, 0, 0, bottom, right], np.int64))
    return g.node("Pad", [x, pads], mode=mode)


def _conv_layer(g: _GraphWriter, layer: ConvLayer, x: str) -> str:
    conv = layer.conv
    if conv.groups != 1 or conv.dilation != (1, 1) or conv.padding_mode != "zeros":
        raise UnsupportedModel(f"convolution {conv} is not a plain padded convolution")
    zero_pad = (0, 0, 0, 0)  # top, left, bottom, right: padded inside the convolution
    if isinstance(layer.pad, nn.ReflectionPad2d):
        if conv.padding != (0, 0):
            raise UnsupportedModel(f"convolution {conv} pads twice")
        left, right, top, bottom = layer.pad.padding
        x = _pad(g, x, top, left, bottom, right, "reflect")
    else:
        pad_h, pad_w = conv.padding  # type: ignore[misc]
        zero_pad = (pad_h, pad_w, pad_h, pad_w)
    bias = conv.bias if conv.bias is not None else torch.zeros(conv.out_channels)
    if conv.out_channels < NARROW and conv.kernel_size[0] > 1 and conv.stride == (1, 1):
        if any(zero_pad):
            x = _pad(g, x, *zero_pad, "constant")
        x = _narrow_conv(g, x, conv.weight.detach().float().cpu(), bias.detach().float().cpu())
    else:
        weight, bias_name = g.constant("weight", conv.weight), g.constant("bias", bias)
        kernel, strides = list(conv.kernel_size), list(conv.stride)
        top, left, bottom, right = zero_pad
        x = g.node(
            "Conv",
            [x, weight, bias_name],
            kernel_shape=kernel,
            strides=strides,
            pads=[top, left, bottom, right],
        )
    if layer.norm is not None:
        x = _instance_norm(g, layer.norm, x)
    return g.node("Relu", [x]) if layer.relu else x


def _narrow_conv(g: _GraphWriter, x: str, weight: torch.Tensor, bias: torch.Tensor) -> str:
    """A convolution with few output channels (the final 8 -> 3, 9x9) as row taps + row sums.

    ONNX Runtime's blocked convolutions compute output channels in blocks of 8, so 3 of
    them waste most of the work (a third of the lite network's time). Instead one
    convolution computes every kernel row's contribution with a one-row kernel
    (kh * out channels, which block well), and the rows are summed shifted:
    y[c, h] = sum_i z[i * out + c, h + i]. The same products, another summation order.
    """
    out, _, kh, kw = weight.shape
    rows = weight.permute(2, 0, 1, 3).reshape(kh * out, -1, 1, kw)  # [i * out + c, k, 0, j]
    z = g.node("Conv", [x, g.constant("row_weight", rows)], kernel_shape=[1, kw])
    axes = g.constant("axes", np.array([1, 2], np.int64))
    shifted = []
    for i in range(kh):
        # Negative ends count from the end, so the graph needs no shape arithmetic.
        end = i - (kh - 1) if i < kh - 1 else np.iinfo(np.int64).max
        starts = g.constant("starts", np.array([i * out, i], np.int64))
        ends = g.constant("ends", np.array([(i + 1) * out, end], np.int64))
        shifted.append(g.node("Slice", [z, starts, ends, axes]))
    return g.node("Sum", [*shifted, g.constant("bias", bias.view(1, out, 1, 1))])


def _instance_norm(g: _GraphWriter, norm: nn.Module, x: str) -> str:
    if not isinstance(norm, nn.InstanceNorm2d) or norm.track_running_stats:
        raise UnsupportedModel(f"normalization {norm} is not a per-frame instance norm")
    channels = norm.num_features
    scale = norm.weight if norm.affine else torch.ones(channels)
    shift = norm.bias if norm.affine else torch.zeros(channels)
    return g.node(
        "InstanceNormalization",
        [x, g.style_parameter("norm_scale", scale), g.style_parameter("norm_shift", shift)],
        epsilon=float(norm.eps),
    )


def _module(g: _GraphWriter, module: nn.Module, x: str) -> str:
    if isinstance(module, nn.Sequential):
        for child in module:
            x = _module(g, child, x)
        return x
    if isinstance(module, ConvLayer):
        return _conv_layer(g, module, x)
    if isinstance(module, ResidualBlock):
        return g.node("Add", [x, _conv_layer(g, module.conv2, _conv_layer(g, module.conv1, x))])
    if isinstance(module, UpsampleConv):
        # F.interpolate(scale_factor=2, mode="nearest") reads source pixel floor(i / 2).
        scales = g.constant("scales", np.array([1.0, 1.0, 2.0, 2.0], np.float32))
        up = g.node(
            "Resize",
            [x, "", scales],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )
        return _conv_layer(g, module.conv, up)
    if isinstance(module, SpaceToDepth):
        return g.node("SpaceToDepth", [x], blocksize=module.block)
    if isinstance(module, DepthToSpace):
        return g.node("DepthToSpace", [x], blocksize=module.block, mode="CRD")
    raise UnsupportedModel(f"no ONNX conversion for {type(module).__name__}")


def write_graph(model: TransformerNet, norm_inputs: bool = False) -> _GraphWriter:
    """The network body's nodes and constants (norm parameters as inputs with `norm_inputs`).

    Written in module order with counted names, so every network of the same shape gives
    the same node and input names: the feeds of one style fit the session of another."""
    g = _GraphWriter(norm_inputs)
    x = INPUT_NAME
    if model.config.grain:
        x = grain_nodes(g, x, model.config.grain)
    for stage in (model.down, model.res, model.up):
        x = _module(g, stage, x)
    g.nodes[-1].output = OUTPUT_NAME
    return g


def build_onnx(model: TransformerNet, norm_inputs: bool = False) -> onnx.ModelProto:
    """The network body (input already a multiple of 4 in size) as a float32 ONNX model."""
    return graph_model(write_graph(model, norm_inputs))


def graph_model(g: _GraphWriter) -> onnx.ModelProto:
    """A written graph as a checked ONNX model."""
    from onnx import TensorProto, checker, helper, numpy_helper

    dims = [1, 3, "height", "width"]
    style_inputs = [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, list(value.shape))
        for name, value in g.feeds.items()
    ]
    graph = helper.make_graph(
        [helper.make_node(n.op, n.inputs, [n.output], **n.attrs) for n in g.nodes],
        "livestyle_transformer",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, dims), *style_inputs],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, dims)],
        [numpy_helper.from_array(value, name) for name, value in g.initializers.items()],
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="livestyle"
    )
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnxruntime releases since 1.14
    checker.check_model(proto)
    return proto


def default_threads() -> int:
    """All cores but one: the capture, display and recorder threads need a core too.

    On the 2-core machine the live pipeline ran 4.7-4.8 frames/s with one network thread
    against 3.7-3.9 with two, and the network alone was faster on one as well whenever
    anything else ran (benchmarks/RESULTS.md, "Speed").
    """
    return max(1, torch.get_num_threads() - 1)


def session_options(threads: int, spinning: bool = False) -> onnxruntime.SessionOptions:
    """One intra-op pool of `threads`, sequential graph, every graph optimization.

    Spinning pool threads wait for work by burning their core: on two cores shared with the
    capture thread (and whatever else runs) that time is taken from the frame, so by
    default they sleep (measured faster under load, see benchmarks/RESULTS.md "Speed").
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def pad_to_multiple(x: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """Reflect-pad the bottom and right edges so both sides divide by `multiple`."""
    pad_h = (-x.shape[-2]) % multiple
    pad_w = (-x.shape[-1]) % multiple
    return F.pad(x, (0, pad_w, 0, pad_h), mode="reflect") if pad_h or pad_w else x


class OnnxNet:
    """Callable like the TransformerNet it was built from: (1, 3, H, W) float32 in and out.

    `feeds` are the style's norm parameters when the session was built with them as inputs
    (see OnnxEngine); empty when every parameter is a constant of the graph.
    """

    def __init__(
        self,
        model: TransformerNet | onnx.ModelProto | bytes,
        threads: int | None = None,
        spinning: bool = False,
    ) -> None:
        import onnxruntime as ort

        threads = threads or default_threads()
        if isinstance(model, nn.Module):
            model = build_onnx(model)
        # The serialized model, kept for the session cache (a few MB at most).
        self.model = model if isinstance(model, bytes) else model.SerializeToString()
        self.session = ort.InferenceSession(
            self.model, session_options(threads, spinning), providers=["CPUExecutionProvider"]
        )
        self.threads = threads
        self.int8 = False  # set by the engine when the graph is a quantized one

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """The graph on ready inputs (sides already multiples of 4)."""
        return self.session.run([OUTPUT_NAME], inputs)[0]

    def __call__(self, x: torch.Tensor, feeds: dict[str, np.ndarray] | None = None) -> torch.Tensor:
        height, width = x.shape[-2:]
        padded = pad_to_multiple(x.detach().to(torch.float32)).contiguous()
        (out,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: padded.numpy(), **(feeds or {})})
        return torch.from_numpy(out)[..., :height, :width]


class OnnxEngine(Engine):
    """The styles' networks in ONNX Runtime on the CPU, float32; frame conversion in torch.

    One session per network body: the convolution weights are constants of the graph (ONNX
    Runtime prepacks them; as inputs they made the lite network 1.3x slower here), the
    style's norm scales and shifts are inputs. So styles of one multi-style network share
    one session and its thread pool. Sessions are built here, not at a style's first frame:
    built lazily on the inference thread, a process now and then ran every frame 25% slower
    (27 against 20.5 ms at 320x240 on the 2-core CPU, in 1 of 4 runs and more).
    """

    name = "onnxruntime"

    def __init__(
        self, models: list[TransformerNet], threads: int | None = None, int8: bool | None = False
    ) -> None:
        """`int8`: True, every body's convolutions in int8; None ("auto"), int8 for each body
        whose pictures stay within quantize.MIN_PSNR_DB of float32's and that runs at least
        quantize.MIN_SPEEDUP times as fast on this CPU, else float32; False, float32."""
        import onnxruntime  # noqa: F401  # missing: the caller falls back to torch, said once

        self._threads = threads or default_threads()
        self._keys: list[tuple] = []
        # Each style's norm parameters, under the input names its body's session expects,
        # and the same arrays as tensors (shared memory) for blending them (mix.blend).
        self._feeds: list[dict[str, np.ndarray]] = []
        self._norms: list[list[torch.Tensor]] = []
        self._sessions: dict[tuple, OnnxNet] = {}
        self._host_frames = HostFrames()
        graphs: dict[tuple, _GraphWriter] = {}
        for model in models:
            # Writing the graph also refuses a network the converter does not know.
            graph = write_graph(model.to("cpu", torch.float32).eval(), norm_inputs=True)
            key = body_key(model)
            graphs.setdefault(key, graph)
            self._keys.append(key)
            self._feeds.append(graph.feeds)
            self._norms.append([torch.from_numpy(value) for value in graph.feeds.values()])
        for key, graph in graphs.items():
            self._sessions[key] = self._kept_session(graph, key, int8)
        quantized = sum(net.int8 for net in self._sessions.values())
        if quantized:
            self.name = "onnxruntime int8" + ("" if quantized == len(self._sessions) else " (part)")

    def _kept_session(self, graph: _GraphWriter, key: tuple, int8: bool | None) -> OnnxNet:
        """One body's session, its model read from the session cache when an earlier run
        made the same one (engines/session_cache.py), else made and kept there."""
        feeds = [f for k, f in zip(self._keys, self._feeds, strict=True) if k == key]
        name = session_cache.session_key(graph.fingerprint(), feeds, int8)
        kept = session_cache.load(name)
        if kept is not None:
            model, is_int8 = kept
            try:
                net = OnnxNet(model, self._threads)
            except Exception as exc:  # a damaged file: made again below
                log.debug("session cache: %s did not load (%s)", name, exc)
                session_cache.discard(name)
            else:
                net.int8 = is_int8
                return net
        net = self._session(graph_model(graph), feeds, int8)
        session_cache.store(name, net.model, net.int8)
        return net

    def _session(
        self, proto: onnx.ModelProto, feeds: list[dict[str, np.ndarray]], int8: bool | None
    ) -> OnnxNet:
        """One body's session: float32, or int8 calibrated on every style of the body (so
        one session serves them all), kept under "auto" only if it measures close enough and
        faster."""
        fp32 = OnnxNet(proto, self._threads) if int8 is not True else None
        if int8 is False:
            return fp32
        from livestyle.engines import quantize

        try:
            small = OnnxNet(quantize.quantized(proto, feeds, INPUT_NAME), self._threads)
        except Exception as exc:  # e.g. no room for its temporary files: float32 runs as well
            if int8:
                raise
            log.debug("int8 unavailable (%s): the network runs in float32", exc)
            return fp32
        small.int8 = True
        if fp32 is not None:
            worst = quantize.worst_psnr_db(fp32.run, small.run, feeds, INPUT_NAME)
            if worst < quantize.MIN_PSNR_DB:
                log.debug("int8 strays %.1f dB from float32: float32", worst)
                return fp32
            faster = quantize.speedup(fp32.run, small.run, feeds, INPUT_NAME)
            if faster < quantize.MIN_SPEEDUP:
                # A CPU without int8 dot products: int8 would only cost steadiness.
                log.debug("int8 runs %.2fx float32's speed here: float32", faster)
                return fp32
        return small

    @property
    def threads(self) -> int:
        return self._threads

    @property
    def sessions(self) -> int:
        return len(self._sessions)

    def network(self, style: int | Mix) -> Callable[[torch.Tensor], torch.Tensor]:
        """The network of `style` (or a blend of styles sharing a body): (1, 3, H, W) float32
        in and out."""
        mix = as_mix(style)
        net = self._sessions[self._keys[mix[0][0]]]
        if len(mix) == 1:
            feeds = self._feeds[mix[0][0]]
        else:
            # Styles of one body have the same input names (write_graph), in the same order.
            names = self._feeds[mix[0][0]]
            values = [value.numpy() for value in blend(self._norms, mix)]
            feeds = dict(zip(names, values, strict=True))
        return lambda x: net(x, feeds)

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
        # torch only converts the network's small picture (and blends norm feeds) here: on
        # one thread, so it never waits for a second core busy with capture (torch_threads).
        with torch_threads(1):
            return self._host_frames.stylize(
                np.ascontiguousarray(frame),
                self.network(style),
                torch.float32,
                net_shape,
                strength if strength < 1.0 else None,
                preserve_color=preserve_color,
                guided=guided,
            )
