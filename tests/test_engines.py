"""The engine interface: every engine gives the eager picture; ONNX sessions per network body;
the Stylizer labels each frame with the style it was made with; the base class's statistics
and its one out-of-memory error."""

from __future__ import annotations

import copy
import threading

import numpy as np
import pytest
import torch
from torch import nn

from livestyle.core.errors import OutOfMemory
from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.engines import Engine, make_engine
from livestyle.engines.eager import EagerEngine
from livestyle.engines.frames import stylize_frame
from livestyle.engines.onnx import OnnxEngine, default_threads, onnxruntime_available
from livestyle.model import VARIANTS, TransformerNet
from livestyle.stylizer import Stylizer
from livestyle.weights import StyleInfo

from .test_fast_paths import frame, trained_looking

CPU = torch.device("cpu")
needs_onnxruntime = pytest.mark.skipif(
    not onnxruntime_available(), reason="onnx/onnxruntime not installed"
)


def sharing_body(net: TransformerNet, seed: int) -> TransformerNet:
    """Another style of `net`'s body: the very same convolution tensors, its own norms (what
    the styles of one multi-style network are)."""
    other = copy.deepcopy(net)
    for mine, theirs in zip(net.modules(), other.modules(), strict=True):
        if isinstance(mine, nn.Conv2d):
            theirs.weight, theirs.bias = mine.weight, mine.bias
    generator = torch.Generator().manual_seed(seed)
    for module in other.modules():
        if isinstance(module, nn.InstanceNorm2d):
            with torch.no_grad():
                module.weight.uniform_(0.5, 1.5, generator=generator)
                module.bias.uniform_(-0.3, 0.3, generator=generator)
    return other


def device_path_picture(
    eager: EagerEngine, image: np.ndarray, style: int, shape, strength: float, keep: bool
) -> np.ndarray:
    """What the GPU engines' frame path (engines.frames, in torch) makes of `image`."""
    return stylize_frame(
        torch.from_numpy(image),
        eager.network(style),
        torch.float32,
        shape,
        strength if strength < 1.0 else None,
        False,
        keep,
    ).numpy()


@pytest.mark.parametrize("backend", ["torch", "onnxruntime", "cuda-graph"])
@pytest.mark.parametrize("strength", [1.0, 0.4])
@pytest.mark.parametrize("keep", [False, True])
def test_every_engine_gives_the_eager_picture(backend: str, strength: float, keep: bool) -> None:
    """The CPU engines share the OpenCV frame path, the GPU ones torch's (here on the CPU)."""
    if backend == "onnxruntime" and not onnxruntime_available():
        pytest.skip("onnx/onnxruntime not installed")
    models = [trained_looking("lite", seed) for seed in range(2)]
    eager = EagerEngine(models, CPU, torch.float32)
    engine = make_engine(
        backend, models, CPU, torch.float32, channels_last=False, layout_norm=False
    )
    assert engine.name == backend
    image = frame(30, 44, 3)
    for style in (1, 0):
        out = engine.stylize(image, style, (24, 36), strength, preserve_color=keep)
        assert out.shape == image.shape and out.dtype == np.uint8
        got = out.astype(int)
        if backend == "cuda-graph":
            expected = device_path_picture(eager, image, style, (24, 36), strength, keep)
        else:
            expected = eager.stylize(image, style, (24, 36), strength, preserve_color=keep)
        expected = expected.astype(int)
        # ONNX Runtime sums in another order: at most one grey level apart, rarely.
        assert np.abs(got - expected).max() <= (1 if backend == "onnxruntime" else 0)
        assert np.mean(got != expected) < 0.01


@pytest.mark.parametrize("guided", [False, True])
@pytest.mark.parametrize("strength", [1.0, 0.4])
def test_the_cpu_and_gpu_frame_paths_agree_on_a_photo(guided: bool, strength: float) -> None:
    """OpenCV shrinks with an area filter, torch with an antialiased bilinear one: on a
    camera-like picture (smooth, with edges) a shipped style differs by about a grey level."""
    shipped = load_styles(scan_styles([PACKAGE_WEIGHTS_DIR], prefer_variant="lite"))
    eager = EagerEngine([shipped[0][0]], CPU, torch.float32)
    image = camera_like(96, 128)
    host = eager.stylize(image, 0, (48, 64), strength, guided=guided).astype(int)
    device = stylize_frame(
        torch.from_numpy(image),
        eager.network(0),
        torch.float32,
        (48, 64),
        strength if strength < 1.0 else None,
        False,
        guided=guided,
    ).numpy()
    difference = np.abs(host - device.astype(int))
    assert difference.mean() < 2.0
    assert np.percentile(difference, 99) <= 8
    # ... and they are pictures of the same frame: another frame's would differ far more.
    other = eager.stylize(camera_like(96, 128, seed=1), 0, (48, 64), strength, guided=guided)
    assert np.abs(other.astype(int) - device.astype(int)).mean() > 10 * difference.mean()


def camera_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Soft gradients, a few hard-edged shapes and a little sensor noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack(
        [100 + 80 * np.sin(x / 17 + seed), 90 + 60 * np.cos(y / 13), 60 + 0.8 * (x + y)], -1
    )
    for _ in range(4):
        top, left = rng.integers(0, height - 20), rng.integers(0, width - 30)
        image[top : top + 20, left : left + 30] = rng.integers(0, 256, 3)
    image += rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


@needs_onnxruntime
def test_onnx_styles_of_one_body_share_one_session_with_their_own_norms() -> None:
    base = trained_looking("lite", 0)
    models = [base, sharing_body(base, 1), trained_looking("lite", 2)]
    engine = OnnxEngine(models, threads=1)
    eager = EagerEngine(models, CPU, torch.float32)
    assert engine.sessions == 2  # three styles, two bodies
    image = frame(28, 36, 1)
    outputs = []
    for style in (0, 1, 2, 0):
        outputs.append(engine.stylize(image, style, image.shape[:2], 1.0).astype(int))
        assert engine.sessions == 2
        expected = eager.stylize(image, style, image.shape[:2], 1.0).astype(int)
        assert np.abs(outputs[-1] - expected).max() <= 1
    # The shared session really ran each style's own norm parameters.
    assert np.abs(outputs[0] - outputs[1]).mean() > 5


def test_stylize_labels_a_frame_with_the_style_it_was_made_with() -> None:
    nets = [trained_looking("lite", seed) for seed in range(2)]
    styles = [(net, StyleInfo(f"s{i}", net.config)) for i, net in enumerate(nets)]
    stylizer = Stylizer(styles, CPU, "fp32", backend="torch")
    run = stylizer.engine.stylize
    swapped = threading.Event()

    def swap_during_inference(image, style, net_shape, strength, **options):
        stylizer.select(1)  # a key press while the frame is in the network
        stylizer.strength = 0.2
        stylizer.preserve_color = True
        swapped.set()
        return run(image, style, net_shape, strength, **options)

    stylizer.engine.stylize = swap_during_inference
    result = stylizer.stylize(frame(20, 24))
    assert swapped.is_set() and stylizer.active.name == "s1"
    assert result.style.name == "s0" and result.strength == 1.0
    assert not result.preserve_color


def test_eager_engine_prepares_copies_and_leaves_the_callers_network_alone() -> None:
    net = TransformerNet(VARIANTS["lite"])
    engine = EagerEngine([net], CPU, torch.bfloat16, layout_norm=True)
    assert next(net.parameters()).dtype == torch.float32
    assert next(net.parameters()).requires_grad
    assert next(engine.models[0].parameters()).dtype == torch.bfloat16
    assert not any(p.requires_grad for p in engine.models[0].parameters())


# --- the base class: one interface, one set of errors, the statistics callers read ---


def built(backend: str, models: list[nn.Module]) -> Engine:
    if backend == "onnxruntime" and not onnxruntime_available():
        pytest.skip("onnx/onnxruntime not installed")
    return make_engine(backend, models, CPU, torch.float32, channels_last=False, layout_norm=False)


@pytest.mark.parametrize("backend", ["torch", "onnxruntime", "cuda-graph"])
def test_every_engine_has_the_base_statistics(backend: str) -> None:
    engine = built(backend, [trained_looking("lite", 0)])
    assert isinstance(engine, Engine)
    assert engine.captures == 0  # nothing run yet
    engine.stylize(frame(20, 28), 0, (16, 20), 1.0)
    assert engine.captures == (1 if backend == "cuda-graph" else 0)
    if backend == "onnxruntime":
        assert engine.threads == default_threads()
        assert OnnxEngine([trained_looking("lite", 0)], threads=1).threads == 1
    else:
        assert engine.threads == torch.get_num_threads()
    engine.release()  # every engine can be asked, whether or not it holds anything


# Where each engine's frame work runs torch's frame conversion (a fake out-of-memory there
# is what the device would raise in the middle of a frame).
FRAME_WORK = {
    "torch": "livestyle.engines.host_frames.HostFrames.stylize",
    "onnxruntime": "livestyle.engines.host_frames.HostFrames.stylize",
    "cuda-graph": "livestyle.engines.cuda.stylize_frame",
}


@pytest.mark.parametrize("backend", ["torch", "onnxruntime", "cuda-graph"])
def test_every_engine_raises_one_out_of_memory_type(backend: str, monkeypatch) -> None:
    engine = built(backend, [trained_looking("lite", 0)])

    def out_of_memory(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(FRAME_WORK[backend], out_of_memory)
    with pytest.raises(OutOfMemory, match="Tried to allocate 2 GiB") as caught:
        engine.stylize(frame(20, 28), 0, (16, 20), 1.0)
    assert isinstance(caught.value.__cause__, torch.cuda.OutOfMemoryError)
    assert not isinstance(caught.value, torch.cuda.OutOfMemoryError)  # callers need no torch


def test_other_errors_pass_through_the_base_unchanged(monkeypatch) -> None:
    engine = built("torch", [trained_looking("lite", 0)])

    def broken(*args, **kwargs):
        raise RuntimeError("shapes do not match")

    monkeypatch.setattr(FRAME_WORK["torch"], broken)
    with pytest.raises(RuntimeError, match="shapes do not match") as caught:
        engine.stylize(frame(20, 28), 0, (16, 20), 1.0)
    assert type(caught.value) is RuntimeError
