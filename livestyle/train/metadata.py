"""What a style file says of its styles: what the app shows, the recipe that trained them, and
for a retuned or grown network the record of every run that changed it."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from livestyle.model import VARIANTS, TransformerNet
from livestyle.train.config import TrainConfig
from livestyle.train.distributed import process_count
from livestyle.train.naming import style_file
from livestyle.train.paintings import Painting
from livestyle.train.plan import StylePlan
from livestyle.weights import StyleInfo, save_network, save_style

# What the app shows of a style (a retune keeps it unless its painting says otherwise).
SHOWN = (
    "title",
    "artist",
    "year",
    "licence",
    "order",
    "stroke_scale",
    "marks",
    "ink",
    "colour",
    "dots",
)


def recipe(config: TrainConfig, steps: int | None = None) -> dict[str, Any]:
    """The training settings every style of the run shares; `steps` are the steps done
    (fewer than --steps when --max-minutes stopped the run)."""
    weights = config.weights
    return (
        {
            "loss_net": config.loss_net,
            "steps": config.steps if steps is None else steps,
            "size": config.size,
            "batch": config.batch,
            "style_size": config.style_size,
            **({"also_style_size": config.also_style_size} if config.also_style_size else {}),
            "lr": config.lr,
            "content_weight": weights.content,
            "style_weight": weights.style,
            "tv_weight": weights.tv,
            "temporal_weight": weights.temporal,
            "color_weight": weights.color,
            **({"grid_weight": weights.grid} if weights.grid else {}),
            **({"local_style_weight": weights.local_style} if weights.local_style else {}),
            **({"flat_patches": config.flat_patches} if config.flat_patches else {}),
            **(
                {"local_style_where": config.local_style_where}
                if config.local_style_where != "all"
                else {}
            ),
            "seed": config.seed,
            "variant": config.variant,
            "processes": process_count(),
        }
        | _teacher_recipe(config)
        | _faces_recipe(config)
        | _start_recipe(config)
    )


def _start_recipe(config: TrainConfig) -> dict[str, Any]:
    return {"init_from": Path(config.init_from).name} if config.init_from else {}


def _faces_recipe(config: TrainConfig) -> dict[str, Any]:
    if not config.faces:
        return {}
    return {"faces": Path(config.faces).name, "face_weight": config.weights.face}


def _teacher_recipe(config: TrainConfig) -> dict[str, Any]:
    if not config.teacher:
        return {}
    return {"teacher": Path(config.teacher).name, "teacher_weight": config.weights.teacher}


def style_info(
    config: TrainConfig, painting: Painting | None = None, steps: int | None = None
) -> StyleInfo:
    """A style's metadata: what the app shows, and the recipe that trained it."""
    painting = painting or config.paintings[0]
    training = {"painting": painting.path.name, **recipe(config, steps)}
    if painting.style_weight is not None:
        training["style_weight"] = painting.style_weight
    if painting.temporal_weight is not None:
        training["temporal_weight"] = painting.temporal_weight
    return StyleInfo(
        name=painting.name,
        config=replace(VARIANTS[config.variant], grain=config.grain),
        title=painting.title,
        artist=painting.artist,
        year=painting.year,
        licence=painting.licence,
        order=painting.order,
        stroke_scale=painting.stroke_scale_for(config.variant),
        marks=painting.marks_for(config.variant),
        ink=painting.ink_for(config.variant),
        colour=painting.colour_for(config.variant),
        dots=painting.dots_for(config.variant),
        training=training,
    )


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


def save_result(config: TrainConfig, plan: StylePlan, model: TransformerNet, steps: int) -> Path:
    """The style file: one style, or the whole network with every style's metadata."""
    if not plan.multi:
        return save_style(style_file(config), model, style_info(config, steps=steps))
    new = [style_info(config, p, steps) for p in plan.paintings]
    if plan.retuned:
        new = [retuned(info, former) for info, former in zip(new, plan.retuned, strict=True)]
    training = recipe(config, steps)
    if plan.lineage:  # grown by --add-to: the app then shows it in place of its base
        training = plan.grown_record(training)
    model, infos = plan.written_rows(model, [*plan.existing, *new])
    return save_network(style_file(config), model, infos, training)
