"""Checkpoints: everything a run needs to resume exactly (network, optimizer, loss scaler,
every rank's random generators), written so that a crash never destroys the previous one."""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import torch

from livestyle.core.errors import LivestyleError
from livestyle.core.outputs import replaced_whole
from livestyle.train.config import LossWeights, Outputs, TrainConfig

CHECKPOINT_FORMAT = "livestyle-train-checkpoint"
_PLAIN = (str, int, float, bool, type(None))


def options_record(config: TrainConfig) -> dict[str, Any]:
    """The run's options by their command-line names, plain values only: a record for people
    (no run reads it back), and a checkpoint is loaded with weights_only, which refuses more."""
    record: dict[str, Any] = {}
    for item in fields(config):
        value = getattr(config, item.name)
        if isinstance(value, LossWeights):
            record.update({f"{term}_weight": w for term, w in value.by_term().items()})
        elif isinstance(value, Outputs):
            record.update(asdict(value))
        elif isinstance(value, _PLAIN):
            record[item.name] = value
    return record


def check_checkpoint(ckpt: dict[str, Any], config: TrainConfig) -> None:
    """Refuse a checkpoint whose network cannot continue under these options."""
    source = config.resume
    if ckpt.get("variant") != config.variant:
        raise LivestyleError(
            f"--resume {source}: checkpoint is for the {ckpt.get('variant')} variant, "
            f"not {config.variant}; pass --variant {ckpt.get('variant')}"
        )
    names = ckpt.get("styles")
    if names is not None and names != [p.name for p in config.paintings]:
        raise LivestyleError(
            f"--resume {source}: checkpoint trains the styles {', '.join(names)}, not "
            f"{', '.join(p.name for p in config.paintings)}"
        )
    if ckpt.get("loss_net") != config.loss_net:
        raise LivestyleError(
            f"--resume {source}: checkpoint was trained with --loss-net "
            f"{ckpt.get('loss_net')}, not {config.loss_net}"
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
