"""int8 networks for ONNX Runtime on the CPU: static, per-channel quantization of the
convolutions (QDQ), calibrated on the network's own styles.

CPUs with int8 dot products (AVX-512 VNNI, AVX-VNNI, ARM dot product) run the shuffled
lite network's convolutions about twice as fast in int8 as in float32 (benchmarks/RESULTS.md,
"A network shaped for CPUs"). Only the convolutions are quantized: instance norms, padding,
additions and the pixel (un)shuffles stay float32, so each style's norm scales and shifts
stay exact graph inputs and one quantized session still serves every style of a body.

Calibration needs pictures with the statistics of photographs, not photographs: the ranges
come from 1/f ("pink") noise pictures and a few frames of the built-in demo scene, run
through every style of the body, so nothing is shipped or fetched. Under "auto" the int8
network is then checked against float32 on other noise pictures and kept only within
MIN_PSNR_DB, and only where it is also faster: on a CPU without int8 dot products it is not
(0.96x float32's speed on a Zen 1 AMD EPYC), and int8 costs steadiness on video, about 12%
with every convolution in int8 (benchmarks/RESULTS.md, rounds ten and eleven), about half
that with the decoder's upsampling convolution left in float32 (round thirteen). Noise is
harsher than photos: the shipped lite network's worst style reads 31.1 dB there, where the
live frame path on a photograph reads 34.6-38.0 dB across its styles and the two pictures
cannot be told apart at 3x zoom (benchmarks/RESULTS.md, "A network shaped for CPUs").
"""

from __future__ import annotations

import functools
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livestyle.video.demo import DemoSource

if TYPE_CHECKING:
    import onnx

# "auto" keeps a body's int8 network only if its pictures stay this close to float32's
# (PSNR of the network's output, every style, on noise pictures; see the module's doc).
MIN_PSNR_DB = 30.0

# "auto" keeps an int8 network only if it runs the network at least this much faster than
# float32 here: 2.1x on a CPU with AVX-512 VNNI, 0.95-0.98x on one without int8 dot products
# when idle, but 0.99-1.20x on that one with a test suite running beside (RESULTS, round
# eleven): the bar sits between, clear of that noise.
MIN_SPEEDUP = 1.5
# Timed at the live default's network size, one warm-up and SPEED_RUNS alternating runs each.
SPEED_SHAPE = (240, 320)
SPEED_RUNS = 5

# Small calibration frames: the ranges after instance norm do not depend on the size, and a
# start with 12 styles stays well under a second.
CALIBRATION_SHAPE = (96, 128)
CALIBRATION_FRAMES = 3


def pink_noise(seed: int, shape: tuple[int, int] = CALIBRATION_SHAPE) -> np.ndarray:
    """(1, 3, H, W) float32 in [0, 1]: random pictures with the 1/f amplitude spectrum and the
    correlated colour channels of photographs (Field 1987), edges and textures at every
    scale, where the demo scene has flat shapes; made here, so nothing is shipped or fetched."""
    rng = np.random.default_rng(seed)
    height, width = shape
    frequency = np.hypot(np.fft.fftfreq(height)[:, None], np.fft.rfftfreq(width)[None])
    frequency[0, 0] = 1.0
    planes = []
    for _ in range(3):
        spectrum = rng.normal(size=frequency.shape) + 1j * rng.normal(size=frequency.shape)
        planes.append(np.fft.irfft2(spectrum / frequency, s=shape))
    mixing = np.eye(3) + 0.3 * rng.normal(size=(3, 3))
    picture = np.tensordot(mixing, np.stack(planes), axes=1)
    picture = (picture - picture.min()) / (picture.max() - picture.min())
    return np.ascontiguousarray(picture[None].astype(np.float32))


def demo_frames(count: int, shape: tuple[int, int] = CALIBRATION_SHAPE) -> list[np.ndarray]:
    """The built-in demo scene at spread-out moments, as (1, 3, H, W) RGB in [0, 1]: the
    flat colours and hard edges the noise lacks."""
    height, width = shape
    demo = DemoSource(width, height)
    frames = []
    for _ in range(count):
        for _step in range(15):  # half a second of demo time apart: other shapes, other places
            bgr = demo.read()
        rgb = bgr[..., ::-1].astype(np.float32) / 255.0
        frames.append(np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]))
    return frames


def calibration_frames(count: int = CALIBRATION_FRAMES) -> list[np.ndarray]:
    """What the ranges are measured on: noise pictures and demo frames."""
    return [pink_noise(seed) for seed in range(count)] + demo_frames(count)


def check_frames(count: int = CALIBRATION_FRAMES) -> list[np.ndarray]:
    """What "auto" checks int8 on: other noise pictures than those it was calibrated on."""
    return [pink_noise(1000 + seed) for seed in range(count)]


def calibration_feeds(
    style_feeds: list[dict[str, np.ndarray]], frames: list[np.ndarray], input_name: str
) -> Iterator[dict[str, np.ndarray]]:
    """Every frame through every style: the ranges must hold for all of them (and blends of
    them, whose norm parameters lie between)."""
    for feeds in style_feeds or [{}]:
        for frame in frames:
            yield {input_name: frame, **feeds}


# Ops that only rearrange what they are given: a convolution after them reads the same values.
_REARRANGING = frozenset({"SpaceToDepth", "Pad"})


def grain_convolutions(proto: onnx.ModelProto, input_name: str) -> list[onnx.NodeProto]:
    """The convolutions that read the picture with the canvas grain appended (a Concat of the
    input and the field, engines/onnx_grain.py), through ops that only rearrange it. One
    uint8 scale for both leaves the faint grain (a few hundredths) a handful of levels, and
    the network amplifies the error: 25.1 dB against float32 for a network trained with the
    grain, 33.7 dB with this one convolution left in float32 (benchmarks/RESULTS.md)."""
    with_grain = {
        output
        for node in proto.graph.node
        if node.op_type == "Concat" and input_name in node.input and len(node.input) > 1
        for output in node.output
    }
    return _convolutions_reading(proto, with_grain)


def upsampling_convolution(proto: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The decoder's first convolution after its nearest-neighbour upsampling (a Resize,
    through ops that only rearrange it), or none. In int8 it shakes the picture most: with it
    alone in float32, int8's video flickers 6.5% more than float32's instead of 12% (every
    shipped style on the talking head; benchmarks/RESULTS.md, round thirteen), for 19% of
    int8's time on a VNNI CPU (12.9 -> 15.3 ms at 320x240, float32 27.3 ms; round ten)."""
    upsampled = {
        output for node in proto.graph.node if node.op_type == "Resize" for output in node.output
    }
    return _convolutions_reading(proto, upsampled)[:1]


def _convolutions_reading(proto: onnx.ModelProto, tensors: set[str]) -> list[onnx.NodeProto]:
    """The convolutions whose input is one of `tensors`, directly or through ops that only
    rearrange it, in graph order."""
    carrying = set(tensors)
    convolutions = []
    for node in proto.graph.node:  # graph order: producers come before their readers
        if not node.input or node.input[0] not in carrying:
            continue
        if node.op_type in _REARRANGING:
            carrying.update(node.output)
        elif node.op_type == "Conv":
            convolutions.append(node)
    return convolutions


def quantized(
    proto: onnx.ModelProto, style_feeds: list[dict[str, np.ndarray]], input_name: str
) -> onnx.ModelProto:
    """`proto` (float32, picture input `input_name`, norm parameters as inputs or constants:
    `style_feeds` holds each style's) with its convolutions in
    int8: weights per output channel (signed), activations per tensor (unsigned),
    calibrated by min and max over the styles' calibration runs; a convolution that reads the
    canvas grain stays float32 (grain_convolutions), and so does the decoder's upsampling one
    (upsampling_convolution). Weights get 7 bits where this CPU's
    int8 convolutions would otherwise saturate (saturates)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._feeds = calibration_feeds(style_feeds, calibration_frames(), input_name)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._feeds, None)

    # quantize_static moves the model's weights out to temporary files: it gets a copy.
    source = onnx.ModelProto()
    source.CopyFrom(proto)
    # The quantizer leaves nodes out by name; the graph writer names none.
    for index, node in enumerate(source.graph.node):
        node.name = node.name or f"{node.op_type}_{index}"
    kept = [*grain_convolutions(source, input_name), *upsampling_convolution(source)]
    kept_float = [node.name for node in kept]
    with tempfile.TemporaryDirectory(prefix="livestyle-int8-") as folder, _quiet_root_logger():
        path = Path(folder) / "int8.onnx"
        quantize_static(
            source,
            path,
            Reader(),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=["Conv"],
            per_channel=True,
            reduce_range=saturates(),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            calibration_providers=["CPUExecutionProvider"],
            nodes_to_exclude=kept_float,
        )
        return onnx.load(str(path))


@functools.cache
def saturates() -> bool:
    """Whether ONNX Runtime's int8 convolutions overflow on this CPU. Without int8 dot
    products (VNNI), x86 CPUs add pairs of uint8 x int8 products in 16 bits (VPMADDUBSW),
    which saturates where both are large: on a Zen 1 AMD EPYC a random network's int8
    pictures read 22.7-25.0 dB against float32's, 29.4-31.7 dB with 7-bit weights (ONNX
    Runtime's `reduce_range`, its advice for such CPUs). Asked of the CPU, not looked up:
    one 1x1 int8 convolution whose every pair of products overflows 16 bits, run once."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    channels = 16  # exact output: `channels`; saturated pairs give about half
    constants = {
        "scale_x": np.array(1 / 255, np.float32),
        "zero": np.array(0, np.uint8),
        "w": np.full((channels, channels, 1, 1), 127, np.int8),
        "scale_w": np.full(channels, 1 / 127, np.float32),
        "scale_y": np.array(2 * channels / 255, np.float32),
    }
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "scale_x", "zero"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "scale_x", "zero"], ["xd"]),
        helper.make_node("DequantizeLinear", ["w", "scale_w"], ["wd"], axis=0),
        helper.make_node("Conv", ["xd", "wd"], ["yc"]),
        helper.make_node("QuantizeLinear", ["yc", "scale_y", "zero"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "scale_y", "zero"], ["y"]),
    ]
    shape = [1, channels, 8, 8]
    graph = helper.make_graph(
        nodes,
        "saturation",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(value, name) for name, value in constants.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    (y,) = session.run(None, {"x": np.ones(shape, np.float32)})
    return bool(np.abs(y - channels).max() > 0.5)


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """onnxruntime's quantizer advises "pre-processing" through the root logger on every
    call: advice for model authors, not for someone starting the app."""

    def errors_only(record: logging.LogRecord) -> bool:
        return record.levelno > logging.WARNING

    root = logging.getLogger()
    root.addFilter(errors_only)
    try:
        yield
    finally:
        root.removeFilter(errors_only)


def psnr_db(reference: np.ndarray, other: np.ndarray) -> float:
    """PSNR of two pictures in [0, 1] (clipped, as the frame path clips them)."""
    error = float(np.mean((np.clip(reference, 0, 1) - np.clip(other, 0, 1)) ** 2))
    return float("inf") if error == 0 else 10.0 * float(np.log10(1.0 / error))


def worst_psnr_db(
    float_net: Callable[[dict[str, np.ndarray]], np.ndarray],
    int8_net: Callable[[dict[str, np.ndarray]], np.ndarray],
    style_feeds: list[dict[str, np.ndarray]],
    input_name: str,
) -> float:
    """The lowest PSNR of the int8 network's picture against float32's, over every style of
    the body on noise pictures it was not calibrated on: what "auto" measures before it
    keeps int8."""
    feeds = calibration_feeds(style_feeds, check_frames(), input_name)
    return min(psnr_db(float_net(inputs), int8_net(inputs)) for inputs in feeds)


def speedup(
    float_net: Callable[[dict[str, np.ndarray]], np.ndarray],
    int8_net: Callable[[dict[str, np.ndarray]], np.ndarray],
    style_feeds: list[dict[str, np.ndarray]],
    input_name: str,
) -> float:
    """float32's time over int8's for one frame at SPEED_SHAPE (median of alternating runs):
    what "auto" measures, after the pictures pass, before it keeps int8. Alternating keeps a
    machine busy with other work from favouring either."""
    inputs = {input_name: pink_noise(2000, SPEED_SHAPE), **(style_feeds[0] if style_feeds else {})}
    times: dict[int, list[float]] = {0: [], 1: []}
    for run in range(SPEED_RUNS + 1):
        for index, net in enumerate((float_net, int8_net)):
            began = time.perf_counter()
            net(inputs)
            if run:  # the first run of each is a warm-up
                times[index].append(time.perf_counter() - began)
    return statistics.median(times[0]) / max(statistics.median(times[1]), 1e-9)
