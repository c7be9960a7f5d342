"""What `livestyle bench` is told: `BenchConfig`, every option filled in.

livestyle.commands.bench builds it from the command line, choosing by device what the user
left out (everything on a GPU, short runs on a CPU); a test builds one from the few fields it
cares about. The defaults here are the CPU's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

Size = tuple[int, int]  # width, height, as people write 640x480


@dataclass(frozen=True)
class BenchConfig:
    """The measurements of one bench run and how long each runs."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    variants: tuple[str, ...] = ("lite",)
    sizes: tuple[Size, ...] = ((640, 480),)
    precisions: tuple[str, ...] = ("fp32",)
    runs: int = 7  # timed runs per row (the median is reported)
    warmup: int = 2  # untimed runs per row first
    threads: int = field(default_factory=torch.get_num_threads)
    pause: float = 0.05  # untimed seconds between rows in a round, so thread pools go idle
    compile: bool = False
    gpu_rows: bool = False  # the GPU rows' code on this device too (a dry run)
    compare_peer: bool = False
    infer_sizes: tuple[int, ...] = (320, 480, 640)  # empty: no inference-size curve
    pipeline_seconds: float = 4.0  # 0: no pipeline rows
    pipeline_fps: tuple[float, ...] = (30.0, 60.0)
    pipeline_size: tuple[Size, ...] = ((640, 480),)
    pipeline_variant: str | None = None  # None: the one the app picks on this device
    pipeline_infer_sizes: tuple[int, ...] = ()
    psnr: bool = False
    photos: Path | None = None  # None: demo frames
    psnr_size: int = 512
    json: Path | None = None  # where the JSON report goes, if anywhere
