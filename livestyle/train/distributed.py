"""Where a run's processes stand: alone, or data-parallel under `torchrun --nproc_per_node N`,
where every process trains on its own share of the photos and rank 0 writes every file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from livestyle.core.errors import LivestyleError
from livestyle.engines.device import pick_device


@dataclass
class Dist:
    """This process's place in a data-parallel run (rank 0 of 1 when run alone)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def train_device(name: str, local_rank: int | None = None) -> torch.device:
    """The device `pick_device` chooses for --device; under torchrun every process takes the
    GPU of its local rank (cuda:LOCAL_RANK), so N processes share no GPU."""
    try:
        device = pick_device(name)
    except (ValueError, RuntimeError) as exc:
        raise LivestyleError(f"--device {name}: {exc}") from exc
    if local_rank is not None and device.type == "cuda":
        device = torch.device("cuda", local_rank)
    return device


def setup_distributed(device_name: str) -> tuple[Dist, torch.device]:
    """Join torchrun's process group when WORLD_SIZE says there is one; else run alone."""
    world = process_count()
    if world <= 1:
        return Dist(), train_device(device_name)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = train_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank), device


def teardown_distributed(ctx: Dist) -> None:
    if ctx.world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def process_count() -> int:
    """How many processes train together (torchrun's WORLD_SIZE; 1 alone)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def shard(paths: list[Path], ctx: Dist) -> list[Path]:
    """This process's share of the photos."""
    mine = paths[ctx.rank :: ctx.world]
    return mine or paths  # fewer photos than processes: every rank uses them all


def any_rank(ctx: Dist, flags: list[bool]) -> list[bool]:
    """Each flag, true when it is true on any rank: under torchrun every rank learns what any
    rank saw, so all stop at the same step (a rank that stopped alone would hang the others)."""
    values = torch.tensor(flags, dtype=torch.int32)
    if ctx.world > 1:
        if dist.get_backend() == "nccl":
            values = values.cuda()
        dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [bool(value.item()) for value in values]


def gathered(ctx: Dist, value: object) -> list[object]:
    """`value` of every rank, in rank order (every rank must call it)."""
    if ctx.world <= 1:
        return [value]
    values: list[object] = [None] * ctx.world
    dist.all_gather_object(values, value)
    return values
