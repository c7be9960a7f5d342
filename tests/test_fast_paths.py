"""The fast paths: ONNX Runtime on the CPU, and the CUDA frame path's logic run on the CPU.

Speed is never asserted here (see `livestyle bench`); only that the fast paths compute what
the plain PyTorch network computes, and that backend choice and fallback behave.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from torch import nn

from livestyle import onnx_backend
from livestyle.capture import DemoSource
from livestyle.cuda_path import (
    CudaFrameRunner,
    Float32StatsNorm,
    GraphCache,
    GraphKey,
    precision_psnr,
    psnr,
    with_float32_norm,
)
from livestyle.inference import Stylizer
from livestyle.model import VARIANTS, TransformerNet
from livestyle.weights import StyleInfo

CPU = torch.device("cpu")
needs_onnxruntime = pytest.mark.skipif(
    not onnx_backend.onnxruntime_available(), reason="onnx/onnxruntime not installed"
)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny frames: a second thread only waits for a core the rest of the suite keeps busy."""
    with onnx_backend.torch_threads(1):
        yield


def trained_looking(variant: str, seed: int) -> TransformerNet:
    """Random weights with non-trivial norm scales and shifts, as trained networks have."""
    torch.manual_seed(seed)
    net = TransformerNet(VARIANTS[variant]).eval()
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
@pytest.mark.parametrize("variant", ["lite", "standard"])
@pytest.mark.parametrize("shape", [(48, 64), (47, 63), (30, 90)])
def test_onnx_network_matches_torch(variant: str, shape: tuple[int, int]) -> None:
    net = trained_looking(variant, 0)
    x = torch.rand(1, 3, *shape)
    with torch.inference_mode():
        expected = net(x)
    got = onnx_backend.OnnxNet(net, threads=1)(x)
    assert got.shape == expected.shape
    assert float((got - expected).abs().max()) < 1e-4


@needs_onnxruntime
@pytest.mark.parametrize("strength, infer_size", [(1.0, None), (0.6, None), (1.0, 40)])
def test_onnxruntime_stylizer_matches_torch_stylizer(strength: float, infer_size: int | None):
    loaded = styles()
    fast = Stylizer(loaded, CPU, "fp32", infer_size=infer_size, strength=strength)
    plain = Stylizer(loaded, CPU, "fp32", infer_size=infer_size, strength=strength, backend="torch")
    assert fast.backend == "onnxruntime" and plain.backend == "torch"
    image = frame(47, 61)
    for index in range(len(loaded)):
        a = fast.stylize(image, index).astype(int)
        b = plain.stylize(image, index).astype(int)
        assert a.shape == image.shape
        # Same pre/post-processing; the networks differ only in float summation order.
        assert np.abs(a - b).max() <= 1 and np.mean(a != b) < 0.01


@needs_onnxruntime
def test_unknown_layer_is_refused() -> None:
    net = trained_looking("lite", 0)
    net.res = nn.Sequential(nn.Identity())
    with pytest.raises(onnx_backend.UnsupportedModel, match="Identity"):
        onnx_backend.build_onnx(net)


def test_pad_to_multiple_reflects_bottom_right() -> None:
    x = torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 3, 5)
    padded = onnx_backend.pad_to_multiple(x)
    assert padded.shape[-2:] == (4, 8)
    assert padded[0, 0, 0, 5:].tolist() == [3.0, 2.0, 1.0]  # reflection, edge not repeated


# --- backend choice ---


def test_auto_backend_by_device_and_precision(monkeypatch) -> None:
    monkeypatch.setattr(onnx_backend, "onnxruntime_available", lambda: True)
    resolve = onnx_backend.resolve_backend
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
    monkeypatch.setattr(onnx_backend, "onnxruntime_available", lambda: False)
    caplog.set_level(logging.INFO, logger="livestyle")
    for requested in ("auto", "onnxruntime"):
        caplog.clear()
        stylizer = Stylizer(styles(count=1), CPU, "fp32", backend=requested)
        assert stylizer.backend == "torch"
        lines = [r.getMessage() for r in caplog.records]
        assert len(lines) == 1 and "onnxruntime is not installed" in lines[0]
        assert "fast-cpu" in lines[0]
        assert stylizer.stylize(frame(20, 24)).shape == (20, 24, 3)


def test_failing_conversion_falls_back_to_torch(monkeypatch, caplog) -> None:
    monkeypatch.setattr(onnx_backend, "onnxruntime_available", lambda: True)

    def refuse(model: nn.Module, *args: object, **kwargs: object) -> None:
        raise onnx_backend.UnsupportedModel("no conversion for Custom")

    monkeypatch.setattr("livestyle.inference.OnnxNet", refuse)
    loaded = styles(count=1)
    stylizer = Stylizer(loaded, CPU, "fp32")
    assert stylizer.backend == "torch" and "no conversion for Custom" in caplog.text
    plain = Stylizer(loaded, CPU, "fp32", backend="torch")
    image = frame(21, 30)
    np.testing.assert_array_equal(stylizer.stylize(image), plain.stylize(image))


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


def test_graph_key_changes_with_style_size_and_blend() -> None:
    base = GraphKey(0, (48, 64), (48, 64), False)
    assert base == GraphKey(0, (48, 64), (48, 64), False)
    others = {
        GraphKey(1, (48, 64), (48, 64), False),
        GraphKey(0, (96, 128), (48, 64), False),
        GraphKey(0, (48, 64), (24, 32), False),
        GraphKey(0, (48, 64), (48, 64), True),
    }
    assert base not in others and len(others) == 4


def test_frame_runner_matches_stylizer_and_recaptures_on_change() -> None:
    loaded = styles(count=2)
    plain = Stylizer(loaded, CPU, "fp32", backend="torch")
    models = [s.model for s in plain.styles]
    runner = CudaFrameRunner(models, CPU, torch.float32, capacity=8, channels_last=False)
    small, large = frame(24, 32, 1), frame(36, 44, 2)
    cases = [(small, 0, 1.0), (small, 0, 1.0), (small, 1, 1.0), (large, 1, 1.0), (small, 1, 0.4)]
    for image, style, strength in cases:
        plain.strength = strength
        expected = plain.stylize(image, style)
        got = runner.stylize(image, style, image.shape[:2], strength)
        np.testing.assert_array_equal(got, expected)
    assert runner.graphs.builds == 4  # the repeated frame reused its graph
    # Blending reads the strength from a device scalar: no new graph for a new strength.
    runner.stylize(small, 1, small.shape[:2], 0.7)
    assert runner.graphs.builds == 4


def test_frame_runner_two_in_flight_keeps_order_and_results() -> None:
    plain = Stylizer(styles(count=1), CPU, "fp32", backend="torch")
    runner = CudaFrameRunner([plain.styles[0].model], CPU, torch.float32, channels_last=False)
    images = [frame(16, 20, seed) for seed in range(5)]
    expected = [plain.stylize(image) for image in images]
    got = list(runner.pipelined(iter(images), 0, (16, 20)))
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


def test_float32_stats_norm_matches_instance_norm() -> None:
    norm = nn.InstanceNorm2d(8, affine=True)
    nn.init.uniform_(norm.weight, 0.5, 1.5)
    nn.init.uniform_(norm.bias, -0.5, 0.5)
    x = torch.randn(1, 8, 13, 17) * 20 + 5
    with torch.inference_mode():
        torch.testing.assert_close(Float32StatsNorm(norm)(x), norm(x), atol=1e-5, rtol=1e-5)
        y = Float32StatsNorm(norm)(x.to(torch.bfloat16))
    assert y.dtype == torch.bfloat16


def test_float32_norm_network_is_a_copy_with_the_same_output() -> None:
    net = trained_looking("lite", 3)
    converted = with_float32_norm(net)
    assert not any(isinstance(m, Float32StatsNorm) for m in net.modules())
    norms = sum(isinstance(m, nn.InstanceNorm2d) for m in net.modules())
    assert sum(isinstance(m, Float32StatsNorm) for m in converted.modules()) == norms
    x = torch.rand(1, 3, 24, 28)
    with torch.inference_mode():
        torch.testing.assert_close(converted(x), net(x), atol=1e-5, rtol=1e-4)


def test_psnr_smoke_with_bfloat16_on_cpu() -> None:
    image = DemoSource(64, 48).read()
    assert psnr(image, image) == float("inf")
    assert psnr(np.zeros((2, 2), np.uint8), np.full((2, 2), 255, np.uint8)) == 0.0
    net = trained_looking("lite", 4)
    plain = precision_psnr(net, [image], CPU, torch.bfloat16)
    stats = precision_psnr(net, [image], CPU, torch.bfloat16, float32_norm=True)
    assert all(20.0 < score < 100.0 for score in plain + stats)


def test_torch_threads_is_scoped() -> None:
    before = torch.get_num_threads()
    with onnx_backend.torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    with onnx_backend.torch_threads(None):
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before
