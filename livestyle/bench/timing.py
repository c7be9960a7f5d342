"""Timing: steps measured interleaved, round after round, device-synchronized; calls timed one
by one (the probes in benchmarks/probes/); the rows."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from livestyle.model import NetConfig, TransformerNet

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


def size_text(width: int, height: int) -> str:
    return f"{width}x{height}"


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
        sync()  # a device error surfaces at the step that caused it, not at a later one
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(max(1, runs)):
        for name, step in steps.items():
            time.sleep(pause)
            began = time.perf_counter()
            frames = step()
            sync()
            times[name].append((time.perf_counter() - began) / max(1, frames))
    return times


# One call of the thing timed; it gets the call's number (warm-up calls count from 0 too), so
# a probe can take turns through its frames: `lambda i: stylize(frames[i % len(frames)])`.
Call = Callable[[int], object]


def no_sync() -> None:
    """Host work needs no waiting: the call returns when it is done."""


@dataclass(frozen=True)
class Timing:
    """Seconds of each timed call (or of each round: time_rounds), in order."""

    seconds: tuple[float, ...]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000.0

    @property
    def mean_ms(self) -> float:
        return statistics.mean(self.seconds) * 1000.0

    @property
    def best_ms(self) -> float:
        return min(self.seconds) * 1000.0

    def percentile_ms(self, q: float) -> float:
        """The q-th percentile (0-100), linear between samples as numpy's default."""
        return float(np.percentile(self.seconds, q)) * 1000.0

    def part(self, start: int, stop: int | None = None) -> Timing:
        """The calls from `start` to `stop`: the halves of a long run, say."""
        return Timing(self.seconds[start:stop])

    def ms_list(self) -> str:
        """Every sample in milliseconds, one decimal, as the probes print them."""
        return " ".join(f"{value * 1000.0:.1f}" for value in self.seconds)


def time_calls(
    call: Call, runs: int, warmup: int = 0, sync: Callable[[], None] = no_sync
) -> Timing:
    """`warmup` untimed calls, then `runs` timed one by one (each until `sync` returns)."""
    for number in range(warmup):
        call(number)
    sync()
    seconds = []
    for number in range(runs):
        began = time.perf_counter()
        call(number)
        sync()
        seconds.append(time.perf_counter() - began)
    return Timing(tuple(seconds))


def time_rounds(
    calls: dict[str, Call], rounds: int, runs: int, warmup: int = 0
) -> dict[str, Timing]:
    """The median of `runs` calls of each, `rounds` times, the calls taking turns round after
    round so a load spike from another process hits them all alike; each round warms up
    first. A Timing per call whose samples are its rounds' medians: on a busy machine read
    the best round."""
    medians: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            medians[name].append(statistics.median(time_calls(call, runs, warmup).seconds))
    return {name: Timing(tuple(values)) for name, values in medians.items()}


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
