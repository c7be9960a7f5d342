"""Every random source of a training run, seeded per rank, so that a run is reproducible and
a checkpoint can restore all of them and resume exactly."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass
class Rngs:
    """The crops' generator (numpy), the losses' jitter and motion (a torch generator), and
    the global torch and Python states."""

    data: np.random.Generator
    torch_gen: torch.Generator

    @classmethod
    def seeded(cls, seed: int, rank: int) -> Rngs:
        # Per rank: every process must draw different crops.
        random.seed(seed + rank)
        gen = torch.Generator().manual_seed(seed * 1000 + rank)
        return cls(np.random.default_rng([seed, rank]), gen)

    def state(self) -> dict[str, Any]:
        return {
            "numpy": self.data.bit_generator.state,
            "torch_gen": self.torch_gen.get_state(),
            "torch": torch.get_rng_state(),
            "python": random.getstate(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.data.bit_generator.state = state["numpy"]
        self.torch_gen.set_state(state["torch_gen"])
        torch.set_rng_state(state["torch"])
        random.setstate(_as_python_state(state["python"]))


def _as_python_state(state: tuple | list) -> tuple:
    # random.setstate wants the inner tuple back exactly as getstate gave it.
    version, internal, gauss = state
    return version, tuple(internal), gauss
