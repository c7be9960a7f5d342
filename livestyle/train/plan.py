"""Which network a run trains: a single-style network, a new multi-style network, or an
existing network (`--add-to`) with new styles whose norm rows are all that trains, or
(`--add-to --retune`) with some of its own styles trained again, norm rows only."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import torch

from livestyle.core.errors import LivestyleError
from livestyle.model import VARIANTS, ConvLayer, TransformerNet, norm_parameters, variant_name
from livestyle.train.paintings import Painting
from livestyle.weights import StyleInfo, lineage_of, load_network, read_training


@dataclass
class StylePlan:
    """The styles of the network a run writes, and which of them it trains.

    `existing` are the styles of an --add-to network (kept as they are), `paintings` the new
    ones; the network's style rows are the existing ones first, then the new. `lineage` names
    the files the written network grows from (weights.lineage_of), so that it replaces them.
    `retuned` are the former metadata of the base's styles this run trains again (--retune):
    their rows move after the kept ones and start from what they were.
    """

    paintings: list[Painting]
    multi: bool
    existing: list[StyleInfo] = field(default_factory=list)
    base: TransformerNet | None = None
    lineage: list[str] = field(default_factory=list)
    retuned: list[StyleInfo] = field(default_factory=list)
    # The --add-to file's own record of its body's training (the body is not trained again).
    base_training: dict = field(default_factory=dict)
    # Retuning trains the last rows, so the base's rows are reordered for the run: the base
    # row of each training row. The written network puts them back (written_rows).
    rows: list[int] = field(default_factory=list)

    @classmethod
    def single(cls, args: argparse.Namespace) -> StylePlan:
        return cls(list(getattr(args, "paintings", [])) or [Painting(Path("-"), "style")], False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StylePlan:
        if getattr(args, "add_to", None):
            path, retune = Path(args.add_to), getattr(args, "retune", False)
            return cls.adding(path, args.paintings, args.variant, retune)
        return cls(args.paintings, multi=len(args.paintings) > 1)

    @classmethod
    def adding(
        cls, path: Path, paintings: list[Painting], variant: str, retune: bool = False
    ) -> StylePlan:
        base, infos = load_network(path)
        if variant_name(base.config) != variant:
            raise LivestyleError(
                f"--add-to {path}: a {variant_name(base.config)} network; "
                f"pass --variant {variant_name(base.config)}"
            )
        rows = {info.name: i for i, info in enumerate(infos)}
        lineage, training = lineage_of(path), read_training(path)
        if retune:
            missing = [p.name for p in paintings if p.name not in rows]
            if missing:
                raise LivestyleError(f"--retune: {path} has no style {missing[0]!r}")
            again = [rows[p.name] for p in paintings]
            kept = [i for i in range(len(infos)) if i not in again]
            existing, retuned = [infos[i] for i in kept], [infos[i] for i in again]
            base = with_rows(base, kept + again)
            return cls(paintings, True, existing, base, lineage, retuned, training, kept + again)
        taken = [p.name for p in paintings if p.name in rows]
        if taken:
            raise LivestyleError(
                f"--add-to {path}: already has a style {taken[0]!r} (--retune trains it again)"
            )
        return cls(paintings, True, infos, base, lineage, [], training)

    def written_rows(
        self, model: TransformerNet, infos: list[StyleInfo]
    ) -> tuple[TransformerNet, list[StyleInfo]]:
        """The trained network and its styles in the base's row order (a retune reordered
        them), so a retuned file lists its styles as its base did."""
        if not self.rows:
            return model, infos
        back = sorted(range(len(self.rows)), key=self.rows.__getitem__)
        return with_rows(model, back), [infos[i] for i in back]

    def grown_record(self, run: dict) -> dict:
        """The written network's "training": its base's record of the body, the files it grew
        from, and every run that grew it (this one last) with the styles each trained."""
        record = dict(self.base_training)
        runs = record.pop("grown", [])
        run = {**run, "styles": [p.name for p in self.paintings], "retune": bool(self.retuned)}
        return {**record, "grown_from": self.lineage, "grown": [*runs, run]}

    @property
    def first_trained(self) -> int:
        """Row of the first style this run trains (the rows before it are frozen)."""
        return len(self.existing)

    @property
    def count(self) -> int:
        return len(self.existing) + len(self.paintings)

    def weights(self, args: argparse.Namespace) -> list[float]:
        """The style weight of each trained style."""
        return [
            args.style_weight if p.style_weight is None else p.style_weight for p in self.paintings
        ]

    def temporal_weights(self, args: argparse.Namespace) -> list[float]:
        """The temporal weight of each trained style."""
        return [
            args.temporal_weight if p.temporal_weight is None else p.temporal_weight
            for p in self.paintings
        ]

    def build_model(self, variant: str) -> TransformerNet:
        """A fresh network, or the --add-to network grown by the new styles' norm rows."""
        if not self.multi:
            return TransformerNet(VARIANTS[variant])
        # A grown network keeps its base's shape, which may be a variant's former one.
        config = VARIANTS[variant] if self.base is None else self.base.config
        model = TransformerNet(config, styles=self.count)
        if self.base is not None:
            grow_from(model, self.base, len(self.existing))
        return model


def grow_from(model: TransformerNet, base: TransformerNet, kept: int) -> None:
    """Copy `base` into `model`, which has more style rows; only the new rows stay trainable.

    The new rows start at the mean of the old ones: a style between the known ones, from
    where a few hundred steps reach the new painting (a fresh identity start takes longer).
    Rows `base` has beyond `kept` (styles retuned) start where they were.
    """
    base_layers = [m for m in base.modules() if isinstance(m, ConvLayer)]
    layers = [m for m in model.modules() if isinstance(m, ConvLayer)]
    with torch.no_grad():
        for source, layer in zip(base_layers, layers, strict=True):
            layer.conv.load_state_dict(source.conv.state_dict())
            layer.conv.requires_grad_(False)
            if source.norm is None:
                continue
            for name in ("weight", "bias"):
                old = getattr(source.norm, name).reshape(-1, layer.norm.weight.shape[1])
                new = getattr(layer.norm, name)
                new[: len(old)] = old
                new[len(old) :] = old[:kept].mean(dim=0)
    for _, parameter in norm_parameters(model):
        parameter.register_hook(_freeze_rows(kept))


def _freeze_rows(kept: int):
    """A gradient hook that zeroes the first `kept` rows: Adam then never moves them (its
    moments stay zero), so the existing styles come out bit for bit as they went in."""

    def hook(grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        grad[:kept] = 0
        return grad

    return hook


def with_rows(net: TransformerNet, order: list[int]) -> TransformerNet:
    """A copy of a network as a multi-style one with its styles' norm rows in `order` (a
    single-style network has one)."""
    copy = TransformerNet(net.config, styles=len(order))
    state = copy.state_dict()
    index = torch.tensor(order)
    for name, value in net.state_dict().items():
        if ".norm." in name:  # (styles, C), or (C,) for a single-style network
            value = value.reshape(len(order), -1)[index]
        state[name] = value.reshape(state[name].shape)
    copy.load_state_dict(state)
    return copy
