"""`livestyle train`: train a new style from a painting and a folder of photos.

The options and their checks, and `config_from_args`, which makes them the run's TrainConfig
(whose defaults are the tuned recipe); the training itself is livestyle.train.loop.train.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from livestyle.core.errors import LivestyleError, WeightsError
from livestyle.discovery import (
    default_style_dirs,
    find_installed,
    installed_networks,
    user_styles_dir,
)
from livestyle.grain import GRAIN_STD
from livestyle.model import VARIANTS
from livestyle.train.config import (
    AMP_CHOICES,
    LOCAL_STYLE_WHERE,
    LossWeights,
    Outputs,
    TrainConfig,
)
from livestyle.train.loop import train
from livestyle.train.lossnet import LOSS_NETWORKS
from livestyle.train.naming import style_file
from livestyle.train.paintings import Painting, check_paintings, paintings_from_options
from livestyle.weights import SUFFIX, file_digest, lineage_of, read_style_infos

# The options' defaults are TrainConfig's, the tuned recipe (see livestyle.train.config).
_RECIPE = TrainConfig()
DEFAULTS = {
    "steps": _RECIPE.steps,
    "size": _RECIPE.size,
    "batch": _RECIPE.batch,
    "lr": _RECIPE.lr,
    **{f"{term}_weight": weight for term, weight in _RECIPE.weights.by_term().items()},
    "seed": _RECIPE.seed,
    "preview_every": _RECIPE.outputs.preview_every,
    "checkpoint_every": _RECIPE.outputs.checkpoint_every,
}

WEIGHT_HELP = {
    "content_weight": "keep the photo's structure",
    "style_weight": "higher: more painting, less photo",
    "tv_weight": "smoothness (total variation)",
    "temporal_weight": "less flicker on video (stylize-then-move vs. move-then-stylize)",
    "color_weight": "experimental: the painting's palette (mean and spread of its colours)",
    "teacher_weight": "with --teacher: how closely to follow the teacher network's pictures",
    "grid_weight": "keeps the lite network's 2x2 sub-pixels alike over areas (no colour grid)",
    "local_style_weight": "the style term per part of the picture: marks on flat areas too",
    "face_weight": "with --faces: the content loss inside faces counts 1 + this many times",
    "lr": "Adam learning rate",
}


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's defaults formatter, minus the noise of "(default: None)" and the like."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        # By identity: 0 == False, and --seed 0 / --threads 0 are worth showing.
        if any(action.default is quiet for quiet in (None, False, argparse.SUPPRESS)):
            return action.help
        if action.default == "":
            return action.help
        return super()._get_help_string(action)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train a new style from a painting and a folder of photos",
        description="Train a style network. Under `torchrun --nproc_per_node N -m livestyle "
        "train ...` it trains data-parallel; --batch is then per process.",
        formatter_class=DefaultsHelpFormatter,
    )
    # In the order --help lists them: what to train, how, and what the run writes.
    _add_subject_options(p)
    _add_training_options(p)
    _add_output_options(p)
    p.set_defaults(func=run)


def _add_subject_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--style-image",
        nargs="+",
        action="extend",
        metavar="PAINTING",
        help="the painting (jpg/png); several train one multi-style network",
    )
    p.add_argument("--data", required=True, help="folder of training photos (searched recursively)")
    p.add_argument(
        "--max-photos",
        type=int,
        default=0,
        help="train on at most this many of the photos, a reproducible random pick (0: all)",
    )
    p.add_argument(
        "--name",
        nargs="+",
        action="extend",
        help="style name(s) shown in the app, one per painting (default: the file names); "
        "one style's file is NAME.VARIANT.safetensors",
    )
    p.add_argument(
        "--manifest",
        metavar="JSON",
        help="the paintings and their metadata as a JSON list (instead of --style-image): "
        'items like {"painting": "file.jpg", "name": "...", "title": "...", "artist": "...", '
        '"year": "...", "licence": "...", "order": 1, "style_weight": 4}',
    )
    p.add_argument(
        "--paintings-dir", help="folder of the manifest's painting files (default: its folder)"
    )
    p.add_argument(
        "--add-to",
        metavar="NETWORK",
        help="add the painting(s) to this trained network, a style file or the name of an "
        "installed network or style (`livestyle styles` lists them): only the new styles' "
        "norm parameters train, so it takes far fewer steps; the file written holds every style",
    )
    p.add_argument(
        "--retune",
        action="store_true",
        help="with --add-to: train the network's own styles of these paintings again (e.g. "
        "with another temporal weight), norm parameters only: every other style stays as it is",
    )
    p.add_argument(
        "--network-name",
        help="a multi-style network's file is NETWORK_NAME.VARIANT.safetensors "
        "(default: the --add-to file's name, else styles)",
    )
    p.add_argument(
        "--variant",
        choices=sorted(VARIANTS),
        default="lite",
        help="lite for CPUs, standard (Johnson et al.) for GPUs",
    )
    p.add_argument(
        "--grain",
        type=float,
        default=0.0,
        metavar="STRENGTH",
        help="give the network a fixed canvas grain of this strength as a 4th input, from "
        f"which it can paint steady marks on flat areas, fixed to the screen (e.g. {GRAIN_STD})",
    )
    p.add_argument(
        "--flat-patches",
        type=float,
        default=0.0,
        metavar="CHANCE",
        help="blur a random part of a crop at this chance, so flat walls and skies are "
        "trained too (with --grain and --local-style-weight: marks from the grain)",
    )
    p.add_argument(
        "--local-style-where",
        choices=LOCAL_STYLE_WHERE,
        default="all",
        help="where --local-style-weight asks for the painting's marks: every part, the parts "
        "off the faces (needs --faces), or the --flat-patches walls only",
    )


def _add_training_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--steps", type=int, default=DEFAULTS["steps"], help="optimizer steps")
    p.add_argument("--size", type=int, default=DEFAULTS["size"], help="training crop side (px)")
    p.add_argument("--batch", type=int, default=DEFAULTS["batch"], help="crops per step")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    p.add_argument("--resume", metavar="CKPT", help="continue exactly where a run stopped")
    p.add_argument(
        "--loss-net",
        choices=LOSS_NETWORKS,
        default="efficientnet-lite0",
        help="perceptual network for the content and style losses",
    )
    p.add_argument(
        "--teacher",
        metavar="FILE",
        help="a trained multi-style network whose pictures of the same photos this one "
        "learns to match, style by style (a lite network from a standard one)",
    )
    p.add_argument(
        "--faces",
        metavar="FILE",
        help="the training photos' face boxes as JSON, written by "
        "benchmarks/quality/face_boxes.py; with --face-weight, faces keep more of the photo",
    )
    p.add_argument(
        "--init-from",
        metavar="FILE",
        help="start every parameter at a trained network's weights (its shape, padding aside, "
        "and the styles this run trains), e.g. to move a network to another padding",
    )
    p.add_argument("--vgg-weights", metavar="PATH", help="torchvision vgg16 .pth file")
    p.add_argument(
        "--download-vgg", action="store_true", help="download VGG16 weights from torchvision"
    )
    for name, text in WEIGHT_HELP.items():
        p.add_argument("--" + name.replace("_", "-"), type=float, default=DEFAULTS[name], help=text)
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"], help="runs are reproducible")
    p.add_argument(
        "--amp",
        choices=AMP_CHOICES,
        default="auto",
        help="mixed precision: auto is bf16 (or fp16) on CUDA, off elsewhere",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=0,
        help="stop after this many minutes of training (0: no limit) and save the style and a "
        "checkpoint as at the last step; --resume continues",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="CPU threads for torch, 0 = all cores (1 is faster on a CPU others load)",
    )
    p.add_argument(
        "--style-size",
        type=int,
        help="long side (px) the painting is scaled to (default: size * long side / 1080)",
    )
    p.add_argument(
        "--also-style-size",
        type=int,
        help="the painting at this long side (px) as well: the style term asks for the mean "
        "of its marks at both sizes (fine and large strokes at once)",
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preview-every",
        type=int,
        default=DEFAULTS["preview_every"],
        help="steps between preview images in the run folder (0: only the final one)",
    )
    p.add_argument(
        "--checkpoint-every",
        type=int,
        default=DEFAULTS["checkpoint_every"],
        help="steps between checkpoints in the run folder (0: none)",
    )
    p.add_argument("--preview-image", help="photo to stylize for previews (default: one of --data)")
    p.add_argument(
        "--run-dir", help="folder for previews, checkpoints, losses (default: runs/NAME)"
    )
    p.add_argument("--out-dir", help=f"folder for the style (default: {user_styles_dir()})")
    p.add_argument("--out", help="style file to write (overrides --out-dir)")
    p.add_argument(
        "--progress",
        choices=("bar", "lines"),
        default="bar",
        help="bar: a progress bar on stderr; lines: a line `progress STEP TOTAL` on stdout "
        "per step, for programs (the live window's drop-a-painting runs it so)",
    )
    p.add_argument("--title", default="", help="painting title (shown in the app)")
    p.add_argument("--artist", default="", help="painter (shown in the app)")
    p.add_argument("--year", default="", help="year of the painting")
    p.add_argument("--licence", default="", help="licence of the painting, e.g. public domain")
    p.add_argument("--order", type=int, default=1000, help="position in the app's key order")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run `livestyle train`'s options ask for; an impossible one is refused with a
    one-line error, before any slow work starts (TrainConfig checks its numbers)."""
    options = vars(args)
    config = TrainConfig(
        data=args.data,
        max_photos=args.max_photos,
        variant=args.variant,
        add_to=args.add_to,
        retune=args.retune,
        network_name=args.network_name,
        steps=args.steps,
        size=args.size,
        batch=args.batch,
        lr=args.lr,
        weights=_loss_weights(options),
        seed=args.seed,
        device=args.device,
        amp=args.amp,
        threads=args.threads,
        max_minutes=args.max_minutes,
        resume=args.resume,
        loss_net=args.loss_net,
        vgg_weights=args.vgg_weights,
        download_vgg=args.download_vgg,
        teacher=args.teacher,
        faces=args.faces,
        init_from=args.init_from,
        grain=args.grain,
        flat_patches=args.flat_patches,
        local_style_where=args.local_style_where,
        style_size=args.style_size,
        also_style_size=args.also_style_size,
        outputs=Outputs(
            out=args.out,
            out_dir=args.out_dir,
            run_dir=args.run_dir,
            preview_every=args.preview_every,
            checkpoint_every=args.checkpoint_every,
            preview_image=args.preview_image,
            progress=args.progress,
        ),
    )
    return with_paintings(config, paintings_from_options(options))


def _loss_weights(options: Mapping[str, Any]) -> LossWeights:
    # Each loss term's weight is the option TERM_weight (--content-weight, --tv-weight, ...).
    return LossWeights(
        **{term.name: options[f"{term.name}_weight"] for term in fields(LossWeights)}
    )


def with_paintings(config: TrainConfig, paintings: list[Painting]) -> TrainConfig:
    """`config` with its paintings, checked, and --add-to resolved to its network's file."""
    check_paintings(paintings)
    if config.teacher:
        check_teacher(Path(config.teacher), [p.name for p in paintings])
    if config.init_from:
        if config.add_to:
            raise LivestyleError("--init-from starts a new network; --add-to grows one: pick one")
        check_teacher(Path(config.init_from), [p.name for p in paintings], "--init-from")
    add_to = config.add_to
    if add_to:
        add_to = str(network_file(add_to, config.variant))
    elif config.retune:
        raise LivestyleError("--retune trains styles of an existing network: name it with --add-to")
    config = replace(config, paintings=tuple(paintings), add_to=add_to)
    check_name_clash(config)
    return config


def check_name_clash(config: TrainConfig) -> None:
    """A style written where the app looks must not take the name of another installed
    network's style of its variant: the app shows one style per name and would hide the
    other without a word. (The same name in the other variant is that style's twin.)"""
    out = style_file(config)
    if not any(_same_path(out.parent, folder) for folder in default_style_dirs()):
        return  # not installed: it clashes with nothing until it is
    names = {p.name for p in config.paintings}
    variant = config.variant
    for path, infos in installed_networks().items():
        taken = [i.name for i in infos if i.name in names and i.variant == variant]
        if taken and not _replaced_by(out, path, config.add_to):
            raise LivestyleError(
                f"style name {taken[0]!r} is taken: {path} has a {variant} style of that "
                "name, and the app would show only one of the two; pick another with --name (or "
                '"name" in a --manifest)'
            )


def _replaced_by(out: Path, path: Path, base: str | None) -> bool:
    """Whether the file this run writes replaces `path`: it is that file, or (--add-to) a
    network grown from it, which the app shows in its place (weights.superseded)."""
    if _same_path(out, path):
        return True
    return base is not None and file_digest(path) in lineage_of(base)


def _same_path(a: Path, b: Path) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def check_teacher(path: Path, names: list[str], option: str = "--teacher") -> None:
    """--teacher (or --init-from) must be a readable network that has every style this run
    trains."""
    if not path.is_file():
        raise LivestyleError(f"{option} {path}: no such file")
    try:
        taught = {info.name for info in read_style_infos(path)}
    except WeightsError as exc:
        raise LivestyleError(f"{option}: {exc}") from exc
    missing = [name for name in names if name not in taught]
    if missing:
        raise LivestyleError(f"{option} {path}: has no style {missing[0]!r}")


def network_file(text: str, variant: str) -> Path:
    """--add-to's network: a style file, else the name of an installed network or style."""
    path = Path(text)
    if path.is_file():
        return path
    found = None if path.suffix == SUFFIX or len(path.parts) > 1 else find_installed(text, variant)
    if found is None:
        raise LivestyleError(
            f"--add-to {text}: no such style file, nor an installed {variant} network or "
            "style of that name (`livestyle styles` lists them)"
        )
    return found


def run(args: argparse.Namespace) -> int:
    result = train(config_from_args(args))
    # Interrupted: the style and checkpoint are saved, but the run did not finish (128 + N).
    return 128 + result.interrupted if result.interrupted else 0
