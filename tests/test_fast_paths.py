"""The fast paths: ONNX Runtime on the CPU, and the CUDA frame path's logic run on the CPU.

Speed is never asserted here (see `livestyle bench`); only that the fast paths compute what
the plain PyTorch network computes, and that backend choice and fallback behave.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from livestyle.bench.candidates import pipelined
from livestyle.bench.precision import precision_psnr, psnr
from livestyle.core.errors import DeviceFailure, GraphCaptureError
from livestyle.engines import cuda as cuda_engine
from livestyle.engines import device as engine_device
from livestyle.engines import onnx as onnx_engine
from livestyle.engines.cuda import CudaFrameRunner, GraphCache, GraphKey
from livestyle.engines.device import resolve_backend
from livestyle.engines.frames import torch_threads
from livestyle.engines.layout_norm import LayoutInstanceNorm, with_layout_norm
from livestyle.model import VARIANTS, NetConfig, TransformerNet
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import StyleInfo

CPU = torch.device("cpu")
needs_onnxruntime = pytest.mark.skipif(
    not onnx_engine.onnxruntime_available(), reason="onnx/onnxruntime not installed"
)


def torch_path(stylizer: Stylizer) -> Stylizer:
    """`stylizer` (eager, on the CPU) with its frames through the GPU's torch path: what the
    CUDA graph runner, run here on the CPU, must match bit for bit."""
    stylizer.engine.host_frames = False
    return stylizer


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny frames: a second thread only waits for a core the rest of the suite keeps busy."""
    with torch_threads(1):
        yield


# The lite network before issue 24 (9x9 convolutions at full resolution): files of it load.
FORMER_LITE = NetConfig((16, 32, 64), 3)
# The shipped lite shape before its padding moved into the convolutions.
REFLECTED_LITE = replace(VARIANTS["lite"], padding="reflect")
FORMERS = {"former lite": FORMER_LITE, "reflected lite": REFLECTED_LITE}


def trained_looking(variant: str, seed: int) -> TransformerNet:
    """Random weights with non-trivial norm scales and shifts, as trained networks have
    (`variant`: a variant's name, or "former lite", the shape shipped files may still have)."""
    torch.manual_seed(seed)
    config = FORMERS.get(variant) or VARIANTS[variant]
    net = TransformerNet(config).eval()
    for module in net.modules():
        if isinstance(module, nn.InstanceNorm2d):
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.uniform_(module.bias, -0.3, 0.3)
    return net


def styles(variant: str = "lite", count: int = 2) -> list[tuple[TransformerNet, StyleInfo]]:
    nets = [trained_looking(variant, seed) for seed in range(count)]
    return [(net, StyleInfo(f"s{i}", net.config)) for i, net in enumerate(nets)]


def frame(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


# --- ONNX Runtime ---


@needs_onnxruntime
@pytest.mark.parametrize("variant", ["lite", "standard", "former lite", "reflected lite"])
@pytest.mark.parametrize("shape", [(48, 64), (47, 63), (30, 90)])
def test_onnx_network_matches_torch(variant: str, shape: tuple[int, int]) -> None:
    net = trained_looking(variant, 0)
    x = torch.rand(1, 3, *shape)
    with torch.inference_mode():
        expected = net(x)
    got = onnx_engine.OnnxNet(net, threads=1)(x)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < 1e-4


@needs_onnxruntime
@pytest.mark.parametrize("strength, infer_size", [(1.0, None), (0.6, None), (1.0, 40)])
def test_onnxruntime_stylizer_matches_torch_stylizer(strength: float, infer_size: int | None):
    loaded = styles()
    size = NetworkSize(infer_size)
    fast = Stylizer(loaded, CPU, "fp32", network_size=size, strength=strength)
    plain = Stylizer(loaded, CPU, "fp32", network_size=size, strength=strength, backend="torch")
    assert fast.backend == "onnxruntime" and plain.backend == "torch"
    image = frame(47, 61)
    for index in range(len(loaded)):
        a = fast.stylize(image, index).image.astype(int)
        b = plain.stylize(image, index).image.astype(int)
        assert a.shape == image.shape
        # Same pre/post-processing; the networks differ only in float summation order.
        assert np.abs(a - b).max() <= 1 and np.mean(a != b) < 0.01


@needs_onnxruntime
def test_unknown_layer_is_refused() -> None:
    net = trained_looking("lite", 0)
    net.res = nn.Sequential(nn.Identity())
    with pytest.raises(onnx_engine.UnsupportedModel, match="Identity"):
        onnx_engine.build_onnx(net)


def test_pad_to_multiple_reflects_bottom_right() -> None:
    x = torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 3, 5)
    padded = onnx_engine.pad_to_multiple(x)
    assert padded.shape[-2:] == (4, 8)
    assert padded[0, 0, 0, 5:].tolist() == [3.0, 2.0, 1.0]  # reflection, edge not repeated


# --- backend choice ---


def test_auto_backend_by_device_and_precision(monkeypatch) -> None:
    monkeypatch.setattr(engine_device, "onnxruntime_available", lambda: True)
    resolve = resolve_backend
    assert resolve("auto", CPU, torch.float32) == "onnxruntime"
    assert resolve("auto", CPU, torch.bfloat16) == "torch"
    assert resolve("auto", torch.device("cuda"), torch.float16) == "cuda-graph"
    assert resolve("auto", torch.device("mps"), torch.float32) == "torch"
    assert resolve("torch", CPU, torch.float32) == "torch"
    with pytest.raises(ValueError, match="CPU only"):
        resolve("onnxruntime", torch.device("cuda"), torch.float16)
    with pytest.raises(ValueError, match="unknown backend"):
        resolve("tensorrt", CPU, torch.float32)


def test_missing_onnxruntime_falls_back_with_one_line(monkeypatch, caplog) -> None:
    monkeypatch.setattr(engine_device, "onnxruntime_available", lambda: False)
    caplog.set_level(logging.INFO, logger="livestyle")
    for requested in ("auto", "onnxruntime"):
        caplog.clear()
        stylizer = Stylizer(styles(count=1), CPU, "fp32", backend=requested)
        assert stylizer.backend == "torch"
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and "onnxruntime is not installed" in lines[0]
        assert "fast-cpu" in lines[0]
        assert stylizer.stylize(frame(20, 24)).image.shape == (20, 24, 3)


def test_failing_conversion_falls_back_to_torch(monkeypatch, caplog) -> None:
    monkeypatch.setattr(engine_device, "onnxruntime_available", lambda: True)

    def refuse(model: nn.Module, *args: object, **kwargs: object) -> None:
        raise onnx_engine.UnsupportedModel("no conversion for Custom")

    monkeypatch.setattr(onnx_engine, "write_graph", refuse)
    loaded = styles(count=1)
    stylizer = Stylizer(loaded, CPU, "fp32")
    assert stylizer.backend == "torch" and "no conversion for Custom" in caplog.text
    plain = Stylizer(loaded, CPU, "fp32", backend="torch")
    image = frame(21, 30)
    np.testing.assert_array_equal(stylizer.stylize(image).image, plain.stylize(image).image)


# --- CUDA frame path pieces, on the CPU ---


def test_graph_cache_builds_once_per_key_and_evicts_least_recent() -> None:
    built: list[str] = []
    evicted: list[str] = []
    cache = GraphCache(
        lambda key: built.append(key) or key.upper(), 2, lambda k, v: evicted.append(k)
    )
    assert cache.get("a") == "A" and cache.get("b") == "B" and cache.get("a") == "A"
    assert built == ["a", "b"]
    cache.get("c")  # evicts b, the least recently used
    assert evicted == ["b"] and "a" in cache and "b" not in cache and len(cache) == 2
    cache.get("b")  # evicts a
    assert built == ["a", "b", "c", "b"] and cache.builds == 4
    cache.clear()  # least recent first
    assert len(cache) == 0 and evicted == ["b", "a", "c", "b"]
    with pytest.raises(ValueError):
        GraphCache(str.upper, 0)


def test_a_graph_replay_keeps_alive_what_its_graph_reads(monkeypatch) -> None:
    """A graph reads its network's weights by address: the replay must hold the step (and so
    the network) after the caller drops it, or the memory under the graph is freed."""
    import gc
    import weakref

    from livestyle.engines import graphs

    class FakeGraph:
        replays = 0

        def replay(self) -> None:
            FakeGraph.replays += 1

    monkeypatch.setattr(graphs, "capture_graph", lambda step, device, warmup=3: FakeGraph())

    def network_step() -> tuple[Callable[[], None], weakref.ref]:
        net = nn.Conv2d(3, 3, 3)
        return lambda: net(torch.zeros(1, 3, 8, 8)), weakref.ref(net)

    step, alive = network_step()
    replay = graphs.graph_replay(step, torch.device("cuda"))
    del step
    gc.collect()
    assert alive() is not None  # the network the graph reads outlives the caller's names
    replay()
    assert FakeGraph.replays == 1
    del replay
    gc.collect()
    assert alive() is None  # and goes with the replay


def test_graph_key_is_the_network_shape_and_sizes_only() -> None:
    lite, standard = VARIANTS["lite"], VARIANTS["standard"]
    base = GraphKey(lite, (48, 64), (48, 64))
    assert base == GraphKey(lite, (48, 64), (48, 64))
    others = {
        GraphKey(standard, (48, 64), (48, 64)),
        GraphKey(lite, (96, 128), (48, 64)),
        GraphKey(lite, (48, 64), (24, 32)),
    }
    assert base not in others and len(others) == 3


def test_frame_runner_swaps_styles_and_strengths_without_recapturing() -> None:
    loaded = styles(count=4)
    plain = torch_path(Stylizer(loaded, CPU, "fp32", backend="torch"))
    runner = CudaFrameRunner(
        [s.model for s in plain.styles], CPU, torch.float32, channels_last=False
    )
    image = frame(24, 32, 1)
    cases = [(style, strength) for strength in (1.0, 0.4, 0.75) for style in (0, 1, 2, 3, 1)]
    for style, strength in cases:
        plain.strength = strength
        expected = plain.stylize(image, style).image
        got = runner.stylize(image, style, image.shape[:2], strength)
        np.testing.assert_array_equal(got, expected, err_msg=f"style {style} at {strength}")
    assert runner.captures == 1  # one graph for the one frame size, whatever the style
    assert runner.swaps == len(cases) - 1  # every change of style but the first, already live
    larger = frame(36, 44, 2)
    runner.stylize(larger, 2, larger.shape[:2])
    assert runner.captures == 2  # a new size is a new graph


def test_frame_runner_keeps_a_bank_per_network_shape() -> None:
    loaded = styles("lite", 2) + [(trained_looking("standard", 7), StyleInfo("big", None))]
    loaded[2] = (loaded[2][0], StyleInfo("big", loaded[2][0].config))
    plain = torch_path(Stylizer(loaded, CPU, "fp32", backend="torch"))
    runner = CudaFrameRunner(
        [s.model for s in plain.styles], CPU, torch.float32, channels_last=False
    )
    assert len(runner.banks) == 2
    image = frame(16, 20, 3)
    for style in (0, 2, 1, 2):
        expected = plain.stylize(image, style).image
        np.testing.assert_array_equal(runner.stylize(image, style, (16, 20)), expected)
    assert runner.captures == 2  # one graph per network shape at this size


def test_stylizer_on_the_graph_path_matches_eager_through_swaps() -> None:
    loaded = styles(count=3)
    graphed = Stylizer(loaded, CPU, "fp32", backend="cuda-graph", graph_fallback=False)
    plain = torch_path(Stylizer(loaded, CPU, "fp32", backend="torch"))
    image = frame(20, 28, 4)
    for index in (0, 2, 1, 0):
        for strength in (1.0, 0.5):
            graphed.select(index)
            graphed.strength = plain.strength = strength
            np.testing.assert_array_equal(
                graphed.stylize(image).image, plain.stylize(image, index).image
            )
    assert graphed.graph_captures == 1


def test_graph_path_runs_nchw_by_default() -> None:
    """The layout the one GPU measured faster (an H200: fp16 graphs 1.1-1.8x, the 1080p
    frame path 27.3 -> 16.2 ms; benchmarks/RESULTS.md): networks and frames stay NCHW unless
    channels-last is asked for."""
    engine = cuda_engine.CudaEngine([net for net, _ in styles(count=2)], CPU, torch.float32)
    lives = [bank.live for bank in engine.runner.banks.values()]
    convs = [m.weight for live in lives for m in live.modules() if isinstance(m, nn.Conv2d)]
    assert not engine.runner.channels_last and convs
    assert all(w.is_contiguous() for w in convs if w.shape[-1] > 1)
    asked = cuda_engine.CudaEngine([styles(count=1)[0][0]], CPU, torch.float32, True)
    live = next(iter(asked.runner.banks.values())).live
    weight = next(m.weight for m in live.modules() if isinstance(m, nn.Conv2d))
    assert weight.is_contiguous(memory_format=torch.channels_last) and not weight.is_contiguous()


def failing_capture(message: str):
    def capture(step, device, warmup=3):
        raise RuntimeError(message)

    return capture


def test_failed_capture_runs_that_size_eagerly_and_says_so(monkeypatch) -> None:
    loaded = styles(count=2)
    notices: list[str] = []
    graphed = Stylizer(loaded, CPU, "fp32", backend="cuda-graph", on_notice=notices.append)
    plain = torch_path(Stylizer(loaded, CPU, "fp32", backend="torch"))
    monkeypatch.setattr(cuda_engine, "capture_graph", failing_capture("operation not permitted"))
    image = frame(20, 28, 5)
    np.testing.assert_array_equal(graphed.stylize(image).image, plain.stylize(image).image)
    assert len(notices) == 1 and "graph capture failed at 28x20" in notices[0]
    graphed.stylize(image)  # the same size stays eager: no capture retried, no new notice
    assert len(notices) == 1 and graphed.graph_captures == 0
    monkeypatch.undo()  # capture works again: a new size gets its graph
    other = frame(24, 32, 6)
    np.testing.assert_array_equal(graphed.stylize(other).image, plain.stylize(other).image)
    assert graphed.graph_captures == 1 and graphed.backend == "cuda-graph"


def test_failed_capture_raises_where_fallback_is_off(monkeypatch) -> None:
    strict = Stylizer(styles(count=1), CPU, "fp32", backend="cuda-graph", graph_fallback=False)
    monkeypatch.setattr(cuda_engine, "capture_graph", failing_capture("operation not permitted"))
    with pytest.raises(GraphCaptureError, match="operation not permitted"):
        strict.stylize(frame(20, 28))


@pytest.mark.parametrize("backend", ["cuda-graph", "torch"])
def test_sticky_cuda_error_ends_with_a_clear_device_failure(monkeypatch, backend) -> None:
    stylizer = Stylizer(styles(count=1), CPU, "fp32", backend=backend)
    sticky = "CUDA error: an illegal memory access was encountered\nCUDA kernel errors ..."

    def broken(*args, **kwargs):
        raise RuntimeError(sticky)

    target = "capture_graph" if backend == "cuda-graph" else None
    if target:
        monkeypatch.setattr(cuda_engine, target, broken)
    else:
        monkeypatch.setattr("livestyle.engines.host_frames.HostFrames.stylize", broken)
    with pytest.raises(DeviceFailure, match="illegal memory access") as caught:
        stylizer.stylize(frame(20, 28))
    assert "restart livestyle" in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 1


def test_release_frees_graphs_before_a_retry_at_a_smaller_size() -> None:
    stylizer = Stylizer(styles(count=1), CPU, "fp32", backend="cuda-graph")
    image = frame(24, 32)
    stylizer.stylize(image)
    runner = stylizer.engine.runner
    entry = next(iter(runner.graphs._entries.values()))
    released: list[bool] = []
    entry.release = lambda: released.append(True)  # what frees a CUDA graph's pool
    stylizer.release_device_memory()
    assert released == [True] and len(runner.graphs) == 0
    stylizer.network_size = NetworkSize(None, 0.5)
    assert stylizer.stylize(image).image.shape == image.shape
    assert stylizer.graph_captures == 2


def test_frame_runner_two_in_flight_keeps_order_and_results() -> None:
    plain = torch_path(Stylizer(styles(count=1), CPU, "fp32", backend="torch"))
    runner = CudaFrameRunner([plain.styles[0].model], CPU, torch.float32, channels_last=False)
    images = [frame(16, 20, seed) for seed in range(5)]
    expected = [plain.stylize(image).image for image in images]
    got = list(pipelined(runner, iter(images), 0, (16, 20)))
    assert len(got) == len(images)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    # A third submit reuses the first slot: its unread result is kept, not overwritten.
    tickets = [runner.submit(image, 0, (16, 20)) for image in images[:3]]
    bigger = runner.submit(frame(20, 24), 0, (20, 24))  # a new size reallocates the slots
    for ticket, want in zip(tickets, expected[:3], strict=True):
        np.testing.assert_array_equal(runner.result(ticket), want)
    assert runner.result(bigger).shape == (20, 24, 3)
    with pytest.raises(KeyError):
        runner.result(tickets[0])


@pytest.mark.parametrize("channels_last", [False, True])
def test_layout_norm_matches_instance_norm_and_keeps_the_layout(channels_last: bool) -> None:
    norm = nn.InstanceNorm2d(8, affine=True)
    nn.init.uniform_(norm.weight, 0.5, 1.5)
    nn.init.uniform_(norm.bias, -0.5, 0.5)
    x = torch.randn(2, 8, 13, 17) * 20 + 5
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    layout = LayoutInstanceNorm(norm)
    with torch.inference_mode():
        y = layout(x)
        torch.testing.assert_close(y, norm(x), atol=1e-5, rtol=1e-5)
        assert y.is_contiguous(memory_format=torch.channels_last) == channels_last
        low = layout(x.to(torch.bfloat16))
    assert low.dtype == torch.bfloat16
    assert low.is_contiguous(memory_format=torch.channels_last) == channels_last
    torch.testing.assert_close(low.float(), norm(x), atol=0.05, rtol=0.02)


def test_layout_norm_network_is_a_copy_with_the_same_output() -> None:
    net = trained_looking("lite", 3)
    converted = with_layout_norm(net)
    assert not any(isinstance(m, LayoutInstanceNorm) for m in net.modules())
    norms = sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules())
    assert sum(isinstance(m, LayoutInstanceNorm) for m in converted.modules()) == norms
    x = torch.rand(1, 3, 24, 28)
    with torch.inference_mode():
        torch.testing.assert_close(converted(x), net(x), atol=1e-5, rtol=1e-4)
        last = x.contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(converted(last), net(x), atol=1e-5, rtol=1e-4)


def test_psnr_smoke_with_bfloat16_on_cpu() -> None:
    image = DemoSource(64, 48).read()
    assert psnr(image, image) == float("inf")
    assert psnr(np.zeros((2, 2), np.uint8), np.full((2, 2), 255, np.uint8)) == 0.0
    net = trained_looking("lite", 4)
    plain = precision_psnr(net, [image], CPU, torch.bfloat16)
    stats = precision_psnr(net, [image], CPU, torch.bfloat16, layout_norm=True)
    assert all(20.0 < score < 100.0 for score in plain + stats)


def test_torch_threads_is_scoped() -> None:
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    with torch_threads(None):
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before
