"""int8 in ONNX Runtime: what is quantized, how close it stays, and when "auto" keeps it.

Speed is never asserted here (benchmarks/probes/cpu_shapes.py and `livestyle bench` measure
it); only what the quantized network computes and which network the engine keeps.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from livestyle.core.errors import LivestyleError
from livestyle.engines import onnx as onnx_engine
from livestyle.engines import quantize
from livestyle.grain import GRAIN_STD
from livestyle.model import VARIANTS, NetConfig, TransformerNet, style_views
from livestyle.stylizer import Stylizer
from livestyle.weights import StyleInfo

pytestmark = pytest.mark.skipif(
    not onnx_engine.onnxruntime_available(), reason="onnx/onnxruntime not installed"
)


def trained_looking(config: NetConfig, styles: int = 2, seed: int = 0) -> TransformerNet:
    """A multi-style network with random weights and norm rows spread as trained ones are."""
    torch.manual_seed(seed)
    net = TransformerNet(config, styles=styles).eval()
    for name, parameter in net.named_parameters():
        if name.endswith("norm.weight"):
            nn.init.uniform_(parameter, 0.5, 1.5)
        elif name.endswith("norm.bias"):
            nn.init.uniform_(parameter, -0.3, 0.3)
    return net


def style_list(net: TransformerNet) -> list[tuple[TransformerNet, StyleInfo]]:
    return [(view, StyleInfo(f"s{i}", net.config)) for i, view in enumerate(style_views(net))]


def test_noise_pictures_have_a_photos_spectrum_and_fill_the_range() -> None:
    picture = quantize.pink_noise(3)
    assert picture.shape == (1, 3, *quantize.CALIBRATION_SHAPE) and picture.dtype == np.float32
    assert picture.min() == 0.0 and picture.max() == 1.0
    assert np.array_equal(picture, quantize.pink_noise(3))  # seeded: the same every start
    # Most of the energy at low frequencies, as in photographs (white noise: evenly spread).
    power = np.abs(np.fft.rfft2(picture[0, 0] - picture[0, 0].mean())) ** 2
    low = power[:8, :8].sum() + power[-8:, :8].sum()
    assert low / power.sum() > 0.5
    # The check runs on other pictures than the calibration.
    calibration = quantize.calibration_frames()
    assert not any(np.array_equal(c, k) for c in calibration for k in quantize.check_frames())


def test_only_convolutions_are_quantized_and_norm_rows_stay_inputs() -> None:
    net = trained_looking(VARIANTS["lite"])
    graphs = [onnx_engine.write_graph(v, norm_inputs=True) for v in style_views(net)]
    proto = onnx_engine.graph_model(graphs[0])
    small = quantize.quantized(proto, [g.feeds for g in graphs], onnx_engine.INPUT_NAME)
    ops = Counter(node.op_type for node in small.graph.node)
    convolutions = ops["Conv"]
    assert convolutions == Counter(n.op_type for n in proto.graph.node)["Conv"]
    # Every convolution reads a dequantized input and dequantized weights.
    assert ops["DequantizeLinear"] >= 2 * convolutions
    assert ops["InstanceNormalization"] == sum(1 for n in proto.graph.node if "Norm" in n.op_type)
    assert {i.name for i in small.graph.input} == {i.name for i in proto.graph.input}


def float_convolutions(small) -> list:  # noqa: ANN001 (an onnx.ModelProto)
    """The quantized model's convolutions whose picture input is not dequantized int8."""
    made_by = {output: node.op_type for node in small.graph.node for output in node.output}
    convolutions = [node for node in small.graph.node if node.op_type == "Conv"]
    return [c for c in convolutions if made_by.get(c.input[0]) != "DequantizeLinear"]


@pytest.mark.parametrize("grain", [0.0, GRAIN_STD])
def test_the_convolutions_reading_the_grain_or_the_upsampling_stay_float32(grain: float) -> None:
    """One uint8 scale for the picture and the faint grain together leaves the grain a few
    levels, which the network amplifies: the convolution reading both stays float32. So does
    the decoder's upsampling convolution, where int8 shakes the picture most on video."""
    net = trained_looking(replace(VARIANTS["lite"], grain=grain))
    graphs = [onnx_engine.write_graph(v, norm_inputs=True) for v in style_views(net)]
    proto = onnx_engine.graph_model(graphs[0])
    small = quantize.quantized(proto, [g.feeds for g in graphs], onnx_engine.INPUT_NAME)
    made_by = {output: node.op_type for node in small.graph.node for output in node.output}
    convolutions = [node for node in small.graph.node if node.op_type == "Conv"]
    float_inputs = float_convolutions(small)
    assert len(float_inputs) == (2 if grain else 1)
    assert len(quantize.grain_convolutions(proto, onnx_engine.INPUT_NAME)) == (1 if grain else 0)
    # The decoder's: 64 -> 32 channels reading the nearest upsampling, the last but one.
    assert made_by[float_inputs[-1].input[0]] == "Resize"
    assert float_inputs[-1] is convolutions[-2]
    if grain:  # the first one, fed by the picture and the grain through SpaceToDepth
        assert float_inputs[0] is convolutions[0]
        assert made_by[float_inputs[0].input[0]] == "SpaceToDepth"


def test_the_upsampling_convolution_is_the_first_after_the_decoders_resize() -> None:
    """The standard network upsamples twice: only the first, half-size convolution is kept
    (the one measured); a graph that upsamples nowhere has none."""
    for variant, from_last in (("lite", 2), ("standard", 3)):
        proto = onnx_engine.graph_model(
            onnx_engine.write_graph(TransformerNet(VARIANTS[variant]).eval())
        )
        convolutions = [node for node in proto.graph.node if node.op_type == "Conv"]
        assert quantize.upsampling_convolution(proto) == [convolutions[-from_last]]
    for node in proto.graph.node:
        if node.op_type == "Resize":
            node.op_type = "Identity"
    assert quantize.upsampling_convolution(proto) == []


@pytest.mark.parametrize("saturating", [False, True])
def test_weights_get_7_bits_where_the_cpus_int8_sums_saturate(monkeypatch, saturating) -> None:
    """ONNX Runtime on x86 without VNNI adds pairs of uint8 x int8 products in 16 bits:
    there the weights are quantized to -64..63 (reduce_range), elsewhere to all 8 bits."""
    from onnx import TensorProto, numpy_helper

    monkeypatch.setattr(quantize, "saturates", lambda: saturating)
    net = trained_looking(VARIANTS["lite"])
    graphs = [onnx_engine.write_graph(v, norm_inputs=True) for v in style_views(net)]
    proto = onnx_engine.graph_model(graphs[0])
    small = quantize.quantized(proto, [g.feeds for g in graphs], onnx_engine.INPUT_NAME)
    weights = [
        numpy_helper.to_array(t) for t in small.graph.initializer if t.data_type == TensorProto.INT8
    ]
    largest = max(int(np.abs(w.astype(int)).max()) for w in weights)
    assert weights and largest == (64 if saturating else 127)


def test_the_saturation_question_is_asked_once_and_answered() -> None:
    assert quantize.saturates() in (True, False)
    assert quantize.saturates.cache_info().currsize == 1  # one small session a process


def test_int8_network_stays_close_to_float32_on_every_style() -> None:
    net = trained_looking(VARIANTS["lite"], styles=3)
    loaded = style_list(net)
    exact = onnx_engine.OnnxEngine([m for m, _ in loaded], threads=1, int8=False)
    small = onnx_engine.OnnxEngine([m for m, _ in loaded], threads=1, int8=True)
    assert small.name == "onnxruntime int8" and exact.name == "onnxruntime"
    assert small.sessions == 1  # one quantized session serves every style of the body
    x = torch.from_numpy(quantize.pink_noise(7, (64, 80)))
    for style in range(3):
        a, b = exact.network(style)(x).numpy(), small.network(style)(x).numpy()
        assert quantize.psnr_db(a, b) > 25.0
        assert not np.array_equal(a, b)  # it really is another network


def test_auto_keeps_int8_only_where_the_check_passes(monkeypatch) -> None:
    monkeypatch.setenv("LIVESTYLE_CACHE_DIR", "")  # the second engine must decide afresh
    net = trained_looking(VARIANTS["lite"])
    models = [m for m, _ in style_list(net)]
    monkeypatch.setattr(quantize, "MIN_SPEEDUP", 0.0)  # whatever this CPU's speed
    monkeypatch.setattr(quantize, "MIN_PSNR_DB", -float("inf"))  # anything passes
    kept = onnx_engine.OnnxEngine(models, threads=1, int8=None)
    monkeypatch.setattr(quantize, "MIN_PSNR_DB", float("inf"))  # nothing can pass
    refused = onnx_engine.OnnxEngine(models, threads=1, int8=None)
    assert kept.name == "onnxruntime int8"
    assert refused.name == "onnxruntime"


def test_auto_keeps_int8_only_where_it_is_faster(monkeypatch) -> None:
    """On a CPU without int8 dot products int8 runs no faster, and would only cost
    steadiness: "auto" runs float32 there. The speed is given, not measured, here."""
    monkeypatch.setenv("LIVESTYLE_CACHE_DIR", "")
    monkeypatch.setattr(quantize, "MIN_PSNR_DB", -float("inf"))
    models = [m for m, _ in style_list(trained_looking(VARIANTS["lite"]))]
    measured = []

    def given(speed: float):  # noqa: ANN202
        def speedup(float_net, int8_net, feeds, input_name):  # noqa: ANN001, ANN202
            measured.append((float_net, int8_net))
            return speed

        return speedup

    monkeypatch.setattr(quantize, "speedup", given(0.96))  # a Zen 1 EPYC, measured
    assert onnx_engine.OnnxEngine(models, threads=1, int8=None).name == "onnxruntime"
    monkeypatch.setattr(quantize, "speedup", given(2.1))  # a CPU with AVX-512 VNNI
    assert onnx_engine.OnnxEngine(models, threads=1, int8=None).name == "onnxruntime int8"
    # Asked for by name, int8 is int8, and float32 is float32, on any CPU: nothing timed.
    monkeypatch.setattr(quantize, "speedup", given(0.5))
    assert onnx_engine.OnnxEngine(models, threads=1, int8=True).name == "onnxruntime int8"
    assert onnx_engine.OnnxEngine(models, threads=1, int8=False).name == "onnxruntime"
    assert len(measured) == 2


def test_speedup_is_float32_time_over_int8_time_after_a_warm_up(monkeypatch) -> None:
    """Timed on a clock the two networks move: float32 takes 30 ms a frame, int8 10 ms,
    and each one's first run (a warm-up, 500 ms) is not counted."""
    clock = [0.0]
    calls: list[str] = []

    def net(name: str, seconds: float):  # noqa: ANN202
        def run(inputs: dict) -> None:
            assert inputs["x"].shape == (1, 3, *quantize.SPEED_SHAPE) and inputs["w"] == 1
            clock[0] += 0.5 if name not in calls else seconds
            calls.append(name)

        return run

    monkeypatch.setattr(quantize.time, "perf_counter", lambda: clock[0])
    ratio = quantize.speedup(net("fp32", 0.03), net("int8", 0.01), [{"w": 1}], "x")
    assert ratio == pytest.approx(3.0)
    assert calls == ["fp32", "int8"] * (quantize.SPEED_RUNS + 1)  # alternating


def test_psnr_is_infinite_for_equal_pictures_and_falls_with_error() -> None:
    a = np.full((1, 3, 4, 4), 0.5, np.float32)
    assert quantize.psnr_db(a, a) == float("inf")
    assert quantize.psnr_db(a, a + 0.01) > quantize.psnr_db(a, a + 0.1)
    assert quantize.psnr_db(a, a + 2.0) == quantize.psnr_db(a, np.ones_like(a))  # clipped


def test_precision_int8_runs_the_stylizer_quantized_and_only_in_onnxruntime() -> None:
    loaded = style_list(trained_looking(VARIANTS["lite"]))
    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    small = Stylizer(loaded, "cpu", "int8", threads=1)
    exact = Stylizer(loaded, "cpu", "fp32", threads=1)
    assert small.backend == "onnxruntime int8" and exact.backend == "onnxruntime"
    assert small.engine.threads == 1
    a, b = small.stylize(frame).image, exact.stylize(frame).image
    assert a.shape == b.shape == frame.shape
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 8
    with pytest.raises(LivestyleError, match="int8 runs the network in ONNX Runtime"):
        Stylizer(loaded, "cpu", "int8", backend="torch")
