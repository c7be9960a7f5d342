"""The training run: `train(args)` trains a transformer network to carry paintings' styles.

One painting gives a single-style network. Several give one multi-style network with
conditional instance norms (Dumoulin et al. 2017): every sample of a batch is drawn with a
random one of the styles, against that style's Gram targets. `--add-to FILE` adds paintings
to an existing network by training only the new styles' norm rows, the rest frozen.

Here are the Trainer (model, loss network, optimizer, mixed precision, every RNG), the
checkpoints that let a run resume exactly, and the loop with its progress bar, time box, loss
log, previews and the style file it ends with. Runs single-process on CPU/CUDA/MPS, or
data-parallel under `torchrun --nproc_per_node N`, where rank 0 writes every file.
The images are in livestyle.train.data, the losses in livestyle.train.losses, and the
command line in livestyle.commands.train.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import os
import random
import signal
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from livestyle.core.errors import LivestyleError, OutputError, failure_reason
from livestyle.core.outputs import replaced_whole
from livestyle.core.precision import dtype_of
from livestyle.core.signals import install_stop_handlers, restore_handlers
from livestyle.engines.device import pick_device
from livestyle.model import VARIANTS, TransformerNet, norm_parameters
from livestyle.train.data import (
    PhotoPool,
    find_photos,
    load_style_image,
    preview_photo,
    sample_photos,
    write_preview,
    write_preview_grid,
)
from livestyle.train.losses import (
    color_loss,
    color_stats,
    content_loss,
    random_roll,
    roll,
    style_loss,
    style_targets,
    temporal_loss,
    temporal_pair,
    tv_loss,
)
from livestyle.train.lossnet import load_loss_network
from livestyle.train.paintings import Painting
from livestyle.train.plan import StylePlan
from livestyle.weights import (
    SUFFIX,
    StyleInfo,
    file_stem,
    load_network,
    save_network,
    save_style,
    user_styles_dir,
)

log = logging.getLogger(__name__)

AMP_CHOICES = ("auto", "off", "fp16", "bf16")
CHECKPOINT_FORMAT = "livestyle-train-checkpoint"
# Learning rate of a multi-style network's norm rows relative to --lr (see param_groups).
NORM_LR_SCALE = 10.0


# ----------------------------------------------------------------------------- processes, device


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
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(), train_device(device_name)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = train_device(device_name, local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), local_rank), device


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


# ----------------------------------------------------------------------------- random state


@dataclass
class Rngs:
    """Every random source of training, so a checkpoint can restore all of them."""

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


# ----------------------------------------------------------------------------- results


@dataclass
class StepResult:
    step: int
    losses: dict[str, float]


@dataclass
class TrainResult:
    style_path: Path | None  # None on ranks other than 0, which write nothing
    run_dir: Path
    history: list[StepResult]
    skipped: int
    seconds: float
    interrupted: int | None = None  # the stop signal that ended the run early, if one did


# ----------------------------------------------------------------------------- the trainer


class Trainer:
    """Owns the model, loss network, optimizer and RNGs; one call to step() = one update."""

    def __init__(
        self,
        args: argparse.Namespace,
        ctx: Dist,
        device: torch.device,
        plan: StylePlan | None = None,
    ) -> None:
        self.args, self.ctx, self.device = args, ctx, device
        self.plan = plan or StylePlan.single(args)
        self.amp_dtype = amp_dtype(args.amp, device)
        self.amp = self.amp_dtype is not None
        self.rngs = Rngs.seeded(args.seed, ctx.rank)
        torch.manual_seed(args.seed)  # same initial weights on every rank
        self.model = self.plan.build_model(args.variant)
        self.model.to(device)
        # Channels-last convolutions run 1.4-1.8x faster on CPUs (oneDNN) and on tensor cores.
        self.model.to(memory_format=torch.channels_last)
        self.net: nn.Module = self.model
        if ctx.world > 1:
            ids = [device.index] if device.type == "cuda" else None
            self.net = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)
        self.teacher, self.teacher_rows = self._load_teacher()
        self.lossnet = load_loss_network(args.loss_net, args.vgg_weights, args.download_vgg)
        self.lossnet.to(device, memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.param_groups(), lr=args.lr)
        # Only float16 needs loss scaling; bfloat16 has float32's range. The losses here are
        # O(10-100), so the default first scale (65536) overflows the gradients and skips
        # about ten steps before settling; 256 starts where it settles.
        self.scaler = torch.amp.GradScaler(
            device.type, init_scale=256.0, enabled=self.amp_dtype == torch.float16
        )
        self.step_done = 0
        # Per tap, the Gram targets of every style stacked: (styles, C, C).
        self.targets: dict[str, torch.Tensor] = {}
        # Each style's weight relative to --style-weight.
        self.style_scale = _relative(self.plan.weights(args), args.style_weight)
        # And its temporal weight relative to --temporal-weight (0 there turns the term off).
        self.temporal_scale = _relative(self.plan.temporal_weights(args), args.temporal_weight)

    def _load_teacher(self) -> tuple[TransformerNet | None, torch.Tensor]:
        """--teacher's network, frozen, and its row for each style this run trains."""
        path = getattr(self.args, "teacher", None)
        if not path:
            return None, torch.zeros(0, dtype=torch.long)
        teacher, infos = load_network(Path(path))
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
            groups.append({"params": rows, "lr": self.args.lr * NORM_LR_SCALE})
        return groups

    def set_styles(self, paintings: list[torch.Tensor]) -> None:
        """The Gram targets of every style the network carries (old ones too when adding)."""
        per_style = []
        for painting in paintings:
            # A fixed generator: the targets must not depend on where training resumed.
            gen = torch.Generator().manual_seed(self.args.seed)
            with self.autocast():
                per_style.append(style_targets(self.lossnet, painting.to(self.device), gen))
        # Each painting's targets are (1, C, C): concatenated, not stacked, to (styles, C, C),
        # so indexing by the batch's styles gives one target per sample (a stacked
        # (styles, 1, C, C) broadcast every sample against every sample's target).
        self.targets = {k: torch.cat([t[k] for t in per_style]) for k in per_style[0]}
        # The paintings' colour distributions, (styles, 3) and (styles, 3, 3).
        stats = [color_stats(p.to(self.device)) for p in paintings]
        self.colors = tuple(torch.cat([s[i] for s in stats]) for i in range(2))

    def draw_styles(self, count: int) -> torch.Tensor:
        """A style index per sample, among the styles this run trains."""
        first = self.plan.first_trained
        return torch.from_numpy(self.rngs.data.integers(first, self.plan.count, size=count))

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, self.amp_dtype or torch.float32, enabled=self.amp)

    def crops_per_step(self) -> int:
        """Photos drawn per step: with the temporal term, half the batch is their moved copies."""
        return max(1, self.args.batch // 2) if self.args.temporal_weight > 0 else self.args.batch

    def losses(self, x: torch.Tensor, styles: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every loss term of one batch, and their weighted sum as "total"."""
        gen = self.rngs.torch_gen
        use_temporal = self.args.temporal_weight > 0
        if use_temporal:
            # The moved copies are training photos too, so the temporal term costs no extra
            # transformer passes (the transformer dominates the step time on CPUs).
            moved, theta = temporal_pair(x, gen)
            x = torch.cat([x, moved]).contiguous(memory_format=torch.channels_last)
            styles = torch.cat([styles, styles])
        if self.model.styles:
            self.model.select(F.one_hot(styles, self.model.styles).float().to(self.device))
        y = self.net(x)
        # Targets and weights exist for the trained styles only (rows from first_trained on).
        trained = styles - self.plan.first_trained
        targets = {k: v[trained.to(v.device)] for k, v in self.targets.items()}
        scale = self.style_scale[trained].to(self.device)
        shift = random_roll(gen)
        feats = self.lossnet(roll(y, shift))
        with torch.no_grad():
            content_target = self.lossnet(roll(x, shift))[self.lossnet.content_layer]
        # Every loss reduction in float32: the networks run in autocast's precision, but sums
        # over feature maps overflow float16 and lose bits in bfloat16.
        with torch.autocast(self.device.type, enabled=False):
            parts = {
                "content": content_loss(feats[self.lossnet.content_layer], content_target),
                "style": style_loss(feats, targets, self.lossnet.style_layers, scale),
                "tv": tv_loss(y.float()),
            }
            if self.args.color_weight > 0:
                colors = tuple(c[trained.to(c.device)] for c in self.colors)
                parts["color"] = color_loss(y, colors, scale)
            if self.teacher is not None:
                parts["teacher"] = (y.float() - self._taught(x, trained).float()).abs().mean()
            if use_temporal:
                still, moving = y.float().chunk(2)
                temporal_scale = self.temporal_scale[trained.chunk(2)[0]].to(self.device)
                parts["temporal"] = temporal_loss(still, moving, theta, temporal_scale)
        parts["total"] = _weighted_total(parts, self.args)
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
        x = pool.batch(self.rngs.data, self.args.size, count).to(self.device)
        x = x.contiguous(memory_format=torch.channels_last)
        styles = self.draw_styles(count)
        self.optimizer.zero_grad(set_to_none=True)
        with self.autocast():
            parts = self.losses(x, styles)
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
        states = [self.rngs.state()]
        if self.ctx.world > 1:
            states = [None] * self.ctx.world
            dist.all_gather_object(states, self.rngs.state())
        return {
            "format": CHECKPOINT_FORMAT,
            "step": self.step_done,
            "variant": self.args.variant,
            "loss_net": self.args.loss_net,
            "styles": [p.name for p in self.plan.paintings],
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng": states,
            "args": _jsonable_args(self.args),
        }

    def restore(self, ckpt: dict[str, Any]) -> None:
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:  # e.g. a run of a variant's former, narrower shape
            raise LivestyleError(
                f"--resume {self.args.resume}: its network has another shape than this "
                f"version's {self.args.variant} network; train it anew"
            ) from exc
        self.optimizer.load_state_dict(ckpt["optimizer"])
        # Adam's state brings the old run's learning rates; this run's --lr wins (a resumed
        # run once ignored --lr 1e-3 in silence and went on at the 3e-3 it had diverged at).
        for group, wanted in zip(self.optimizer.param_groups, self.param_groups(), strict=True):
            group["lr"] = wanted.get("lr", self.args.lr)
        if ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        self.step_done = int(ckpt["step"])
        states, world = ckpt["rng"], self.ctx.world
        if len(states) == world:
            self.rngs.restore(states[self.ctx.rank])
        else:
            # Another process count: the streams cannot be matched to ranks, so start anew.
            log.warning(
                "checkpoint has %d RNG streams, not %d: reseeding", len(states), self.ctx.world
            )
            self.rngs = Rngs.seeded(self.args.seed + self.step_done, self.ctx.rank)


def _relative(weights: list[float], run_weight: float) -> torch.Tensor:
    """Each style's weight as a multiple of the run's (1 where the run's is 0)."""
    return torch.tensor([w / run_weight if run_weight else 1.0 for w in weights])


def _weighted_total(parts: dict[str, torch.Tensor], args: argparse.Namespace) -> torch.Tensor:
    weights = {
        "content": args.content_weight,
        "style": args.style_weight,
        "tv": args.tv_weight,
        "temporal": args.temporal_weight,
        "color": args.color_weight,
        "teacher": getattr(args, "teacher_weight", 0.0),
    }
    return sum(weights[k] * v for k, v in parts.items())


# ----------------------------------------------------------------------------- checkpoints


def _jsonable_args(args: argparse.Namespace) -> dict[str, Any]:
    # Plain values only: a checkpoint is loaded with weights_only, which refuses functions.
    return {
        k: v for k, v in vars(args).items() if isinstance(v, (str, int, float, bool, type(None)))
    }


def check_checkpoint(ckpt: dict[str, Any], args: argparse.Namespace) -> None:
    """Refuse a checkpoint whose network cannot continue under these options."""
    source = args.resume
    if ckpt.get("variant") != args.variant:
        raise LivestyleError(
            f"--resume {source}: checkpoint is for the {ckpt.get('variant')} variant, "
            f"not {args.variant}; pass --variant {ckpt.get('variant')}"
        )
    names = ckpt.get("styles")
    if names is not None and names != [p.name for p in args.paintings]:
        raise LivestyleError(
            f"--resume {source}: checkpoint trains the styles {', '.join(names)}, not "
            f"{', '.join(p.name for p in args.paintings)}"
        )
    if ckpt.get("loss_net") != args.loss_net:
        raise LivestyleError(
            f"--resume {source}: checkpoint was trained with --loss-net "
            f"{ckpt.get('loss_net')}, not {args.loss_net}"
        )


def read_checkpoint(path: Path) -> dict[str, Any]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise LivestyleError(f"--resume {path}: no such file") from exc
    except Exception as exc:  # a corrupt or foreign file raises many types
        raise LivestyleError(f"--resume {path}: not a training checkpoint ({exc})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise LivestyleError(f"--resume {path}: not a livestyle training checkpoint")
    return ckpt


def save_checkpoint(path: Path, ckpt: dict[str, Any]) -> None:
    # A crash mid-write must not destroy the previous checkpoint. torch.save says a full
    # disk with a RuntimeError ("PytorchStreamWriter failed writing").
    with replaced_whole(path, failures=(OSError, RuntimeError)) as temporary:
        torch.save(ckpt, temporary)


# ----------------------------------------------------------------------------- output files


def output_name(args: argparse.Namespace) -> str:
    """What the run's files are called: the style's name for one painting, else the
    network's (--network-name, the --add-to file's, or "styles")."""
    if len(args.paintings) == 1 and not args.add_to:
        return args.paintings[0].name
    if args.network_name:
        return args.network_name.strip()
    if args.add_to:
        return Path(args.add_to).name.split(".")[0]
    return "styles"


def style_file(args: argparse.Namespace) -> Path:
    """NAME.VARIANT.safetensors, the scheme of the shipped styles (unless --out says else);
    NAME made a file name by file_stem, so that no style name leads out of the folder."""
    if args.out:
        return Path(args.out)
    folder = Path(args.out_dir) if args.out_dir else user_styles_dir()
    return folder / f"{file_stem(output_name(args))}.{args.variant}{SUFFIX}"


def style_path(args: argparse.Namespace) -> Path:
    """style_file, with a word when the file's name is not the style's."""
    path, name = style_file(args), output_name(args)
    if not args.out and path.name != f"{name}.{args.variant}{SUFFIX}":
        log.warning(
            "name %r has characters a file name cannot carry: the file is %s "
            "(the app still shows %r)",
            name,
            path.name,
            name,
        )
    return path


def recipe(args: argparse.Namespace, steps: int | None = None) -> dict[str, Any]:
    """The training settings every style of the run shares; `steps` are the steps done
    (fewer than --steps when --max-minutes stopped the run)."""
    return {
        "loss_net": args.loss_net,
        "steps": args.steps if steps is None else steps,
        "size": args.size,
        "batch": args.batch,
        "style_size": args.style_size,
        "lr": args.lr,
        "content_weight": args.content_weight,
        "style_weight": args.style_weight,
        "tv_weight": args.tv_weight,
        "temporal_weight": args.temporal_weight,
        "color_weight": args.color_weight,
        "seed": args.seed,
        "variant": args.variant,
        "processes": int(os.environ.get("WORLD_SIZE", "1")),
    } | _teacher_recipe(args)


def _teacher_recipe(args: argparse.Namespace) -> dict[str, Any]:
    teacher = getattr(args, "teacher", None)
    if not teacher:
        return {}
    return {"teacher": Path(teacher).name, "teacher_weight": args.teacher_weight}


def style_info(
    args: argparse.Namespace, painting: Painting | None = None, steps: int | None = None
) -> StyleInfo:
    """A style's metadata: what the app shows, and the recipe that trained it."""
    painting = painting or args.paintings[0]
    training = {"painting": painting.path.name, **recipe(args, steps)}
    if painting.style_weight is not None:
        training["style_weight"] = painting.style_weight
    if painting.temporal_weight is not None:
        training["temporal_weight"] = painting.temporal_weight
    return StyleInfo(
        name=painting.name,
        config=VARIANTS[args.variant],
        title=painting.title,
        artist=painting.artist,
        year=painting.year,
        licence=painting.licence,
        order=painting.order,
        stroke_scale=painting.stroke_scale,
        training=training,
    )


# What the app shows of a style (a retune keeps it unless its painting says otherwise).
SHOWN = ("title", "artist", "year", "licence", "order", "stroke_scale")


def retuned(info: StyleInfo, former: StyleInfo) -> StyleInfo:
    """A retuned style: what the app shows stays as it was where this run's painting does not
    say (a --style-image has no title or key order), and the record of how it was trained
    gains this run's recipe."""
    for item in fields(StyleInfo):
        if item.name in SHOWN and getattr(info, item.name) == item.default:
            setattr(info, item.name, getattr(former, item.name))
    runs = former.training.get("retuned", [])  # each retune's recipe, oldest first
    info.training = {**former.training, "retuned": [*runs, info.training]}
    return info


def save_result(args: argparse.Namespace, trainer: Trainer) -> Path:
    """The style file: one style, or the whole network with every style's metadata."""
    model = trainer.model.cpu()
    steps = trainer.step_done
    if not trainer.plan.multi:
        return save_style(style_file(args), model, style_info(args, steps=steps))
    new = [style_info(args, p, steps) for p in trainer.plan.paintings]
    if trainer.plan.retuned:
        new = [
            retuned(info, former) for info, former in zip(new, trainer.plan.retuned, strict=True)
        ]
    training = recipe(args, steps)
    if trainer.plan.lineage:  # grown by --add-to: the app then shows it in place of its base
        training = trainer.plan.grown_record(training)
    model, infos = trainer.plan.written_rows(model, [*trainer.plan.existing, *new])
    return save_network(style_file(args), model, infos, training)


def run_dir(args: argparse.Namespace) -> Path:
    """The folder for previews, checkpoints and losses.csv."""
    return Path(args.run_dir) if args.run_dir else Path("runs") / file_stem(output_name(args))


def output_files(args: argparse.Namespace) -> list[tuple[Path, str]]:
    """Every file a run writes (rank 0 only), each with the option that says where: the
    style, and in the run folder the losses, the previews (the final one always) and the
    checkpoint. The files beside these (losses-until-STEP.csv, preview_STEP.jpg) share
    their folders."""
    where = "--out" if args.out else "--out-dir"
    folder = run_dir(args)
    files = [(style_path(args), where), (folder / "losses.csv", "--run-dir")]
    files.append((folder / "preview_final.jpg", "--run-dir"))
    if args.checkpoint_every:
        files.append((folder / "checkpoint.pt", "--run-dir"))
    return files


def check_outputs(files: list[tuple[Path, str]]) -> None:
    """Refuse, in one line, a file that cannot be written: before the first step, not after
    hours of training (the files' folders are made here)."""
    for path, option in files:
        reason = _unwritable(path)
        if reason:
            raise OutputError(f"cannot write {path}: {reason} ({option} sets where it goes)")


def _unwritable(path: Path) -> str | None:
    """Why `path` cannot be written, or None: tried by creating what its writer creates
    first, PATH.tmp (a permission check would pass for root, or on a read-only mount)."""
    if path.is_dir():
        return "it is a folder"
    above = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        return f"{above} is a file, not a folder"
    probe = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except FileExistsError:
        pass  # left by a run that was killed: the writer replaces it
    except OSError as exc:
        return failure_reason(exc)
    return None


class LossLog:
    """losses.csv in the run folder, one row per step (rank 0 only).

    A resumed run appends to it; when its loss terms differ from the file's columns (a
    resume with a term switched on), the old rows move to losses-until-STEP.csv first.
    """

    def __init__(self, path: Path, append: bool) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.old_header = _csv_header(path) if append else None
        self.file: Any = None
        self.writer: Any = None

    def write(self, step: int, losses: dict[str, float]) -> None:
        try:
            # The file opens at the first row: its columns are the loss names that row brings.
            if self.writer is None:
                self._open(step, ["step", *losses])
            self.writer.writerow([step, *(f"{v:.6g}" for v in losses.values())])
        except OSError as exc:  # a full disk
            raise OutputError(f"cannot write {self.path}: {failure_reason(exc)}") from exc

    def _open(self, step: int, header: list[str]) -> None:
        append = self.old_header == header
        if self.old_header and not append:
            self.path.rename(self.path.with_name(f"losses-until-{step - 1:06d}.csv"))
        # Line-buffered, so the file can be watched (and survives a kill) while training runs.
        self.file = self.path.open("a" if append else "w", newline="", buffering=1)
        self.writer = csv.writer(self.file)
        if not append:
            self.writer.writerow(header)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _csv_header(path: Path) -> list[str] | None:
    """The first row of a CSV file, or None when there is none."""
    try:
        with path.open(newline="") as file:
            return next(csv.reader(file), None)
    except FileNotFoundError:
        return None


# ----------------------------------------------------------------------------- the run


def train(args: argparse.Namespace) -> TrainResult:
    """Train a style as the options say; rank 0 writes the run folder and the style file.

    `args` are `livestyle train`'s options, checked by livestyle.commands.train.validate.
    """
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    ctx, device = setup_distributed(args.device)
    try:
        return _train(args, ctx, device, started)
    finally:
        if ctx.world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def _train(args: argparse.Namespace, ctx: Dist, device: torch.device, t0: float) -> TrainResult:
    if ctx.main:
        check_outputs(output_files(args))
    paintings = [load_style_image(p.path, args.size, args.style_size) for p in args.paintings]
    ckpt = read_checkpoint(Path(args.resume)) if args.resume else None
    if ckpt is not None:
        check_checkpoint(ckpt, args)  # before the slow part: decoding the photos
    plan = StylePlan.from_args(args)
    pool = _load_photos(args, ctx)
    trainer = Trainer(args, ctx, device, plan)
    if ckpt is not None:
        trainer.restore(ckpt)
    trainer.set_styles(paintings)
    out_dir = run_dir(args)
    photo = preview_photo(args.preview_image, pool, args.size)
    deadline = t0 + args.max_minutes * 60 if args.max_minutes else math.inf
    with StopRequest() as stop:
        history = _loop(trainer, pool, out_dir, photo, deadline, stop)
        path = None
        if ctx.main:
            path = save_result(args, trainer)
            log.info("saved %s (run folder %s)", path, out_dir)
    seconds = time.perf_counter() - t0
    return TrainResult(path, out_dir, history, pool.skipped, seconds, stop.signum)


def _load_photos(args: argparse.Namespace, ctx: Dist) -> PhotoPool:
    """This process's share of the photos, decoded; unreadable ones are only counted."""
    paths = sample_photos(find_photos(Path(args.data)), getattr(args, "max_photos", 0), args.seed)
    pool = PhotoPool.load(_shard(paths, ctx), args.size)
    if not pool.images:
        raise LivestyleError(f"--data {args.data}: none of the {len(paths)} photos is readable")
    if pool.skipped and ctx.main:
        log.warning("skipped %d unreadable photo(s) of %d", pool.skipped, len(paths))
    return pool


def _shard(paths: list[Path], ctx: Dist) -> list[Path]:
    mine = paths[ctx.rank :: ctx.world]
    return mine or paths  # fewer photos than processes: every rank uses them all


class StopRequest:
    """Ctrl-C or SIGTERM during training: finish the step, then save as the time box does.

    Without it an interrupt lost every step since the last checkpoint and wrote no style.
    A second signal while saving is ignored (the handlers stay until saving is done).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        try:
            self._previous = install_stop_handlers(self._on_signal)
        except ValueError:  # not the main thread: signals cannot be caught here
            self._previous = {}
        return self

    def __exit__(self, *exc: object) -> None:
        restore_handlers(self._previous)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
            log.warning("%s: stopping after this step, then saving", signal.Signals(signum).name)


def _loop(
    trainer: Trainer,
    pool: PhotoPool,
    out_dir: Path,
    photo: torch.Tensor,
    deadline: float,
    stop: StopRequest | None = None,
) -> list[StepResult]:
    """Step until --steps, the time box or a stop signal; log, preview and checkpoint."""
    args, main = trainer.args, trainer.ctx.main
    history: list[StepResult] = []
    smooth: dict[str, float] = {}
    loss_log = LossLog(out_dir / "losses.csv", append=bool(args.resume)) if main else None
    lines = main and getattr(args, "progress", "bar") == "lines"
    bar = tqdm(
        total=args.steps,
        initial=trainer.step_done,
        disable=not main or lines,
        unit="step",
        dynamic_ncols=True,
        desc=f"train {output_name(args)}",
    )
    if lines:
        _progress_line(trainer.step_done, args.steps)  # set up: the first step is coming
    try:
        while trainer.step_done < args.steps:
            losses = trainer.step(pool)
            step = trainer.step_done
            history.append(StepResult(step, losses))
            smooth = _smooth(smooth, losses)
            if loss_log:
                loss_log.write(step, losses)
            bar.set_postfix_str(_postfix(smooth), refresh=False)
            bar.update(1)
            if lines:
                _progress_line(step, args.steps)
            out_of_time, interrupted = _should_stop(trainer.ctx, deadline, stop)
            ending = out_of_time or interrupted
            _periodic(trainer, step, out_dir, photo, last=step == args.steps or ending)
            if ending:
                why = "--max-minutes reached" if out_of_time else "interrupted"
                log.warning("%s: stopping at step %d of %d", why, step, args.steps)
                break
    finally:
        bar.close()
        if loss_log:
            loss_log.close()
    if main:
        _write_preview(trainer, out_dir / "preview_final.jpg", photo)
    return history


def _progress_line(step: int, total: int) -> None:
    # Flushed at once: a program reading the pipe shows it live (stdout to a pipe is
    # block-buffered).
    print(f"progress {step} {total}", flush=True)


def _postfix(smooth: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.3g}" for k, v in smooth.items())


def _smooth(avg: dict[str, float], losses: dict[str, float]) -> dict[str, float]:
    # Exponential moving average: single-batch losses jump around too much to read.
    return {k: v if k not in avg else 0.9 * avg[k] + 0.1 * v for k, v in losses.items()}


def _should_stop(ctx: Dist, deadline: float, stop: StopRequest | None) -> tuple[bool, bool]:
    """(time box over, stop signal received); under torchrun every rank learns what any rank
    saw, so all stop at the same step (a rank that stopped alone would hang the others)."""
    flags = torch.tensor(
        [time.perf_counter() >= deadline, stop is not None and stop.signum is not None],
        dtype=torch.int32,
    )
    if ctx.world > 1:
        if dist.get_backend() == "nccl":
            flags = flags.cuda()
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return bool(flags[0].item()), bool(flags[1].item())


def _periodic(trainer: Trainer, step: int, out_dir: Path, photo: torch.Tensor, last: bool) -> None:
    """The checkpoint and preview due at this step, if any."""
    args = trainer.args
    if args.checkpoint_every and (step % args.checkpoint_every == 0 or last):
        ckpt = trainer.checkpoint()  # every rank takes part: it gathers their RNG states
        if trainer.ctx.main:
            save_checkpoint(out_dir / "checkpoint.pt", ckpt)
    if trainer.ctx.main and args.preview_every and step % args.preview_every == 0:
        _write_preview(trainer, out_dir / f"preview_{step:06d}.jpg", photo)


def _write_preview(trainer: Trainer, path: Path, photo: torch.Tensor) -> None:
    """The photo beside its stylized version; for a multi-style run, beside every style."""
    if not trainer.plan.multi:
        write_preview(path, photo, trainer.stylize(photo))
        return
    styles = range(trainer.plan.first_trained, trainer.plan.count)
    write_preview_grid(path, photo, [trainer.stylize(photo, i) for i in styles])
