"""How much of the canvas grain survives the temporal term's move: training moves the grain
with its photo by bilinear resampling (`losses.warp`), which weakens short waves; marks that
follow a weakened grain are charged as flicker. For each band of wave periods, the grain
moved by `warp` against the same field computed at the moved positions (exact, from 8x finer
samples), over random moves of `losses.random_motion` on 192 px crops.

Run: python benchmarks/probes/grain_moves.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import livestyle.grain as grain
from livestyle.train.losses import random_motion, valid_mask, warp

BANDS = ((2.5, 6.0), (6.0, 12.0), (8.0, 20.0))
SIDE, MOVES, FINER = 192, 16, 8


def field(waves: torch.Tensor, side: int, step: float) -> torch.Tensor:
    """(1, 1, side, side): the waves summed at pixel centres `step` px apart, unit variance."""
    at = torch.arange(side, dtype=torch.float64) * step + (step / 2 - 0.5)
    phase = at[:, None, None] * waves[:, 1] + at[None, :, None] * waves[:, 0] + waves[:, 2]
    summed = torch.sin(phase).sum(-1)
    return (summed / summed.std()).float()[None, None]


def main() -> None:
    theta = random_motion(MOVES, torch.Generator().manual_seed(0))
    shape = [MOVES, 1, SIDE, SIDE]
    for low, high in BANDS:
        grain.GRAIN_PERIODS = (low, high)
        waves = grain._grain_waves()
        still = field(waves, SIDE, 1.0).expand(*shape)
        fine = field(waves, SIDE * FINER, 1 / FINER).expand(MOVES, 1, SIDE * FINER, SIDE * FINER)
        grid = F.affine_grid(theta, shape, align_corners=False)
        exact = F.grid_sample(fine, grid, mode="bilinear", align_corners=False)
        inside = valid_mask(theta, still).bool()
        moved = warp(still, theta)
        exact = exact * (still.std() / exact[inside].std())
        error = ((moved - exact)[inside] ** 2).sum() / (exact[inside] ** 2).sum()
        kept = moved[inside].std() / exact[inside].std()
        print(f"periods {low}-{high} px: amplitude kept {kept:.2f}, relative error {error:.3f}")


if __name__ == "__main__":
    main()
