"""What the drop-a-painting trainer is told: where the app found its styles (AdderOptions)
and how the child trains (TrainSettings: its share of the machine and its length)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from livestyle.stylizer import Stylizer

# Norm rows only: a few hundred steps reach the painting (README, "Train your own style":
# --add-to ... --steps 400). On a CPU 192 px crops as the shipped recipe; the time box keeps
# a slow machine from training for an hour (the style is saved as it is then).
CPU_STEPS, GPU_STEPS = 400, 1000
CPU_SIZE, GPU_SIZE = 192, 256
BATCH = 4
TIME_BOX_MINUTES = 10.0


@dataclass(frozen=True)
class AdderOptions:
    """The live command's say in adding a painting: its extra styles folders (--styles-dir),
    the variant it prefers (--variant) and the photos to train on (--train-data)."""

    styles_dirs: tuple[Path, ...] = ()
    variant: str = "auto"
    train_data: Path | None = None


@dataclass(frozen=True)
class TrainSettings:
    """How the child trains: its share of the machine and its length."""

    threads: int
    device: str = "cpu"
    steps: int = CPU_STEPS
    size: int = CPU_SIZE
    max_minutes: float = TIME_BOX_MINUTES

    @classmethod
    def for_stylizer(cls, stylizer: Stylizer) -> TrainSettings:
        """On the live view's GPU when it has one (norm rows train in seconds there), else
        on the CPU cores the live view leaves."""
        if stylizer.device.type == "cuda":
            device = str(stylizer.device)
            return cls(spare_cores(stylizer), device, GPU_STEPS, GPU_SIZE)
        return cls(spare_cores(stylizer))


def spare_cores(stylizer: Stylizer) -> int:
    """The cores the live view leaves: all but its network's threads and one for capture and
    display (on a GPU: one feeding it, one for the rest). The ONNX engine takes all cores
    but one, so on a CPU this is 1: the child then trains on one thread at low priority."""
    cores = os.cpu_count() or 1
    if stylizer.device.type != "cpu":
        return max(1, cores - 2)
    return max(1, cores - stylizer.engine.threads - 1)
