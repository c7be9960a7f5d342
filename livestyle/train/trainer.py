"""The trainer: the transformer network, the loss network, the optimizer, mixed precision and
every random generator; one call to `step` is one optimizer update on a fresh batch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from livestyle.core.errors import LivestyleError
from livestyle.core.precision import dtype_of
from livestyle.grain import grain_field
from livestyle.model import TransformerNet, norm_parameters
from livestyle.train.checkpoints import CHECKPOINT_FORMAT, options_record
from livestyle.train.config import TrainConfig
from livestyle.train.data import PhotoPool
from livestyle.train.distributed import Dist, gathered
from livestyle.train.losses import (
    color_loss,
    color_stats,
    content_loss,
    face_weights,
    flat_patches,
    grid_loss,
    jitter,
    local_style_loss,
    local_style_where,
    random_offset,
    style_loss,
    style_targets,
    temporal_loss,
    temporal_pair,
    tv_loss,
    warp,
)
from livestyle.train.lossnet import load_loss_network
from livestyle.train.plan import StylePlan, start_from
from livestyle.train.seeding import Rngs
from livestyle.weights import load_network

log = logging.getLogger(__name__)

# Learning rate of a multi-style network's norm rows relative to --lr (see param_groups).
NORM_LR_SCALE = 10.0
# Crops take their canvas grain from anywhere in this many px of its endless pattern.
GRAIN_SPAN = 4096.0


def amp_dtype(choice: str, device: torch.device) -> torch.dtype | None:
    """Autocast precision for training; None trains in float32.

    auto: bfloat16 on GPUs that have it (float32's range, no loss scaling), else float16 on
    CUDA; float32 on CPUs and MPS, where autocast buys little for these small networks.
    """
    if choice == "off" or (choice == "auto" and device.type != "cuda"):
        return None
    if choice == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return dtype_of(choice)


class Trainer:
    """Owns the model, loss network, optimizer and RNGs; one call to step() = one update."""

    def __init__(
        self,
        config: TrainConfig,
        ctx: Dist,
        device: torch.device,
        plan: StylePlan | None = None,
    ) -> None:
        self.config, self.ctx, self.device = config, ctx, device
        self.plan = plan or StylePlan.of(config)
        self.rows = self.plan.trained
        self.amp_dtype = amp_dtype(config.amp, device)
        self.amp = self.amp_dtype is not None
        self.rngs = Rngs.seeded(config.seed, ctx.rank)
        torch.manual_seed(config.seed)  # same initial weights on every rank
        self.model = self.plan.build_model(config.variant, config.grain)
        if config.init_from:
            start_from(self.model, Path(config.init_from), [p.name for p in self.plan.paintings])
        self.model.to(device)
        # Channels-last convolutions run 1.4-1.8x faster on CPUs (oneDNN) and on tensor cores.
        self.model.to(memory_format=torch.channels_last)
        self.net: nn.Module = self.model
        if ctx.world > 1:
            ids = [device.index] if device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.teacher, self.teacher_rows = self._load_teacher()
        self.lossnet = load_loss_network(config.loss_net, config.vgg_weights, config.download_vgg)
        self.lossnet.to(device, memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.param_groups(), lr=config.lr)
        # Only float16 needs loss scaling; bfloat16 has float32's range. The losses here are
        # O(10-100), so the default first scale (65536) overflows the gradients and skips
        # about ten steps before settling; 256 starts where it settles.
        self.scaler = torch.amp.GradScaler(
            device.type, init_scale=256.0, enabled=self.amp_dtype == torch.float16
        )
        self.step_done = 0
        # Per tap, the Gram targets of every style stacked: (styles, C, C).
        self.targets: dict[str, torch.Tensor] = {}
        weights = config.weights
        # Each style's weight relative to --style-weight.
        self.style_scale = _relative(self.plan.style_weights(weights.style), weights.style)
        # And its temporal weight relative to --temporal-weight (0 there turns the term off).
        temporal = self.plan.temporal_weights(weights.temporal)
        self.temporal_scale = _relative(temporal, weights.temporal)

    def _load_teacher(self) -> tuple[TransformerNet | None, torch.Tensor]:
        """--teacher's network, frozen, and its row for each style this run trains."""
        if not self.config.teacher:
            return None, torch.zeros(0, dtype=torch.long)
        teacher, infos = load_network(Path(self.config.teacher))
        rows = {info.name: i for i, info in enumerate(infos)}
        teacher.requires_grad_(False).eval().to(self.device)
        teacher.to(memory_format=torch.channels_last)
        return teacher, torch.tensor([rows[p.name] for p in self.plan.paintings])

    def param_groups(self) -> list[dict[str, Any]]:
        """What Adam trains. A multi-style network's norm rows learn NORM_LR_SCALE times
        faster: each gets the gradient of its own style's samples only (1/N of a batch), and
        at the body's rate all styles still looked alike after 1000 steps (12 paintings)."""
        norms = {id(p) for _, p in norm_parameters(self.model)} if self.model.styles else set()
        params = [p for p in self.model.parameters() if p.requires_grad]
        body = [p for p in params if id(p) not in norms]
        rows = [p for p in params if id(p) in norms]
        groups = [{"params": body}] if body else []
        if rows:
            groups.append({"params": rows, "lr": self.config.lr * NORM_LR_SCALE})
        return groups

    def set_styles(
        self, paintings: list[torch.Tensor], second_sizes: list[torch.Tensor] | None = None
    ) -> None:
        """The Gram targets of every style the network carries (old ones too when adding);
        with `second_sizes` (the same paintings at --also-style-size), each tap's target is
        the mean of the two sizes' Grams: a style term met by the painting's fine and large
        marks alike. The colour term takes the first size's."""
        per_style = [self._targets_of(painting) for painting in paintings]
        if second_sizes is not None:
            others = [self._targets_of(painting) for painting in second_sizes]
            per_style = [
                {k: (one[k] + other[k]) / 2 for k in one}
                for one, other in zip(per_style, others, strict=True)
            ]
        # Each painting's targets are (1, C, C): concatenated, not stacked, to (styles, C, C),
        # so indexing by the batch's styles gives one target per sample (a stacked
        # (styles, 1, C, C) broadcast every sample against every sample's target).
        self.targets = {k: torch.cat([t[k] for t in per_style]) for k in per_style[0]}
        # The paintings' colour distributions, (styles, 3) and (styles, 3, 3).
        stats = [color_stats(p.to(self.device)) for p in paintings]
        self.colors = tuple(torch.cat([s[i] for s in stats]) for i in range(2))

    def _targets_of(self, painting: torch.Tensor) -> dict[str, torch.Tensor]:
        # A fixed generator: the targets must not depend on where training resumed.
        gen = torch.Generator().manual_seed(self.config.seed)
        with self.autocast():
            return style_targets(self.lossnet, painting.to(self.device), gen)

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, self.amp_dtype or torch.float32, enabled=self.amp)

    def crops_per_step(self) -> int:
        """Photos drawn per step: with the temporal term, half the batch is their moved copies."""
        batch = self.config.batch
        return max(1, batch // 2) if self.config.weights.temporal > 0 else batch

    def losses(
        self, x: torch.Tensor, styles: torch.Tensor, faces: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Every loss term of one batch, and their weighted sum as "total"; `faces` (N, 1,
        H, W), the crops' face masks, weighs the content term (--face-weight) and may keep
        the local style term off the faces (--local-style-where)."""
        gen = self.rngs.torch_gen
        use_temporal = self.config.weights.temporal > 0
        flat = None
        if self.config.flat_patches > 0:  # before the moved copy, which moves the patch too
            x, flat = flat_patches(x, gen, self.config.flat_patches)
        strength = self.model.config.grain
        grain = random_grain(x, gen, strength) if strength else None
        if use_temporal:
            # The moved copies are training photos too, so the temporal term costs no extra
            # transformer passes (the transformer dominates the step time on CPUs).
            moved, theta = temporal_pair(x, gen)
            x = torch.cat([x, moved]).contiguous(memory_format=torch.channels_last)
            styles = torch.cat([styles, styles])
            if faces is not None:  # the moved copies' faces (and walls) moved with them
                faces = torch.cat([faces, warp(faces, theta)])
            if flat is not None:
                flat = torch.cat([flat, warp(flat, theta)])
            if grain is not None:
                # The grain moves with the photo here, so the temporal term does not teach
                # the network to ignore it; live it is fixed to the screen, which is steady
                # wherever the scene holds still (most of a webcam's frame).
                grain = torch.cat([grain, warp(grain, theta)])
        if self.model.styles:
            self.model.select(F.one_hot(styles, self.model.styles).float().to(self.device))
        if grain is None:
            y = self.net(x)
        else:
            y = self.net(
                torch.cat([x, grain.to(x)], 1).contiguous(memory_format=torch.channels_last)
            )
        # Targets and weights exist for the trained styles only.
        trained = self.rows.index(styles)
        targets = {k: v[trained.to(v.device)] for k, v in self.targets.items()}
        scale = self.style_scale[trained].to(self.device)
        offset = random_offset(gen)
        feats = self.lossnet(jitter(y, offset))
        with torch.no_grad():
            content_target = self.lossnet(jitter(x, offset))[self.lossnet.content_layer]
        # The masks jittered as the pictures were.
        faces = None if faces is None else jitter(faces.float(), offset)
        flat = None if flat is None else jitter(flat, offset)
        content_weight = None
        if faces is not None and self.config.weights.face > 0:
            size = content_target.shape[-2:]  # the content features' resolution
            content_weight = face_weights(faces, self.config.weights.face, size)
        # Every loss reduction in float32: the networks run in autocast's precision, but sums
        # over feature maps overflow float16 and lose bits in bfloat16.
        with torch.autocast(self.device.type, enabled=False):
            parts = {
                "content": content_loss(
                    feats[self.lossnet.content_layer], content_target, content_weight
                ),
                "style": style_loss(feats, targets, self.lossnet.style_layers, scale),
                "tv": tv_loss(y.float()),
            }
            if self.config.weights.grid > 0:
                parts["grid"] = grid_loss(y.float())
            if self.config.weights.local_style > 0:
                where = local_style_where(self.config.local_style_where, faces, flat)
                parts["local_style"] = local_style_loss(
                    feats, targets, self.lossnet.style_layers, scale, where=where
                )
            if self.config.weights.color > 0:
                colors = tuple(c[trained.to(c.device)] for c in self.colors)
                parts["color"] = color_loss(y, colors, scale)
            if self.teacher is not None:
                parts["teacher"] = (y.float() - self._taught(x, trained).float()).abs().mean()
            if use_temporal:
                still, moving = y.float().chunk(2)
                temporal_scale = self.temporal_scale[trained.chunk(2)[0]].to(self.device)
                parts["temporal"] = temporal_loss(still, moving, theta, temporal_scale)
        weights = self.config.weights.by_term()
        parts["total"] = sum(weights[k] * v for k, v in parts.items())
        return parts

    @torch.no_grad()
    def _taught(self, x: torch.Tensor, trained: torch.Tensor) -> torch.Tensor:
        """The teacher's pictures of the batch, each in its sample's style."""
        assert self.teacher is not None
        rows = self.teacher_rows[trained.cpu()]
        if self.teacher.styles:
            self.teacher.select(F.one_hot(rows, self.teacher.styles).float().to(self.device))
        return self.teacher(x)

    def step(self, pool: PhotoPool) -> dict[str, float]:
        """One optimizer update on a fresh batch of crops; returns the losses as floats."""
        self.model.train()
        count = self.crops_per_step()
        faces = None
        if self.config.needs_face_masks:  # the same crops, and their face masks
            x, faces = pool.batch_with_faces(self.rngs.data, self.config.size, count)
            faces = faces.to(self.device)
        else:
            x = pool.batch(self.rngs.data, self.config.size, count)
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        styles = self.rows.draw(self.rngs.data, count)
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            parts = self.losses(x, styles, faces)
        self.scaler.scale(parts["total"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step_done += 1
        return {k: float(v.detach()) for k, v in parts.items()}

    @torch.no_grad()
    def stylize(self, image: torch.Tensor, style: int = 0) -> torch.Tensor:
        self.model.eval()
        if self.model.styles:
            self.model.select(style)
        image = image.to(self.device).contiguous(memory_format=torch.channels_last)
        return self.model(image).float().cpu().contiguous()

    def checkpoint(self) -> dict[str, Any]:
        """Everything a resumed run needs to go on exactly (every rank must call it)."""
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step_done,
            "variant": self.config.variant,
            "loss_net": self.config.loss_net,
            "styles": [p.name for p in self.plan.paintings],
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": gathered(self.ctx, self.rngs.state()),
            "args": options_record(self.config),
        }

    def restore(self, ckpt: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:  # e.g. a run of a variant's former, narrower shape
            raise LivestyleError(
                f"--resume {self.config.resume}: its network has another shape than this "
                f"version's {self.config.variant} network; train it anew"
            ) from exc
        self.optimizer.load_state_dict(ckpt["optimizer"])
        # Adam's state brings the old run's learning rates; this run's --lr wins (a resumed
        # run once ignored --lr 1e-3 in silence and went on at the 3e-3 it had diverged at).
        for group, wanted in zip(self.optimizer.param_groups, self.param_groups(), strict=True):
            group["lr"] = wanted.get("lr", self.config.lr)
        if ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        self.step_done = int(ckpt["step"])
        states, world = ckpt["rng"], self.ctx.world
        if len(states) == world:
            self.rngs.restore(states[self.ctx.rank])
        else:
            # Another process count: the streams cannot be matched to ranks, so start anew.
            log.warning("checkpoint has %d RNG streams, not %d: reseeding", len(states), world)
            self.rngs = Rngs.seeded(self.config.seed + self.step_done, self.ctx.rank)


def _relative(weights: list[float], run_weight: float) -> torch.Tensor:
    """Each style's weight as a multiple of the run's (1 where the run's is 0)."""
    return torch.tensor([w / run_weight if run_weight else 1.0 for w in weights])


def random_grain(x: torch.Tensor, gen: torch.Generator, std: float) -> torch.Tensor:
    """(N, 1, H, W): for each crop of the batch `x`, the canvas grain of strength `std` from a
    random place of its endless pattern, so the network learns the pattern's kind, not one
    patch of it."""
    count, _, height, width = x.shape
    corners = torch.rand(count, 2, generator=gen, dtype=torch.float64) * GRAIN_SPAN
    fields = [grain_field(height, width, float(t), float(le), std=std) for t, le in corners]
    return torch.cat(fields).to(x.device)
