"""Which network a run trains: a single-style network, a new multi-style network, or an
existing network (`--add-to`) with new styles whose norm rows are all that trains, or
(`--add-to --retune`) with some of its own styles trained again, norm rows only.

Every growing or retuning run keeps one rule, `TrainedRows`: the rows of the styles it
trains are the network's LAST rows; the rows before them stay exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from livestyle.core.errors import LivestyleError
from livestyle.model import VARIANTS, ConvLayer, TransformerNet, norm_parameters, variant_name
from livestyle.train.config import TrainConfig
from livestyle.train.paintings import Painting
from livestyle.weights import StyleInfo, lineage_of, load_network, read_training


@dataclass(frozen=True)
class TrainedRows:
    """The style rows a run trains: rows `first` to `count` - 1, the last ones.

    A network a run grows or retunes has its kept styles' rows first and the trained ones
    after them (a retune moves its styles' rows last for the run, `order`, and back when it
    writes the network, `undo`); `freeze_others` keeps the rows before `first` bit for bit.
    """

    first: int
    count: int

    @property
    def range(self) -> range:
        return range(self.first, self.count)

    def draw(self, rng: np.random.Generator, size: int) -> torch.Tensor:
        """A trained style's row per sample."""
        return torch.from_numpy(rng.integers(self.first, self.count, size=size))

    def index(self, rows: torch.Tensor) -> torch.Tensor:
        """Each row's place among the trained styles (their targets and weights)."""
        return rows - self.first

    def freeze_others(self, model: TransformerNet) -> None:
        """Keep the untrained styles' norm rows as they are: their gradient is zeroed, so Adam
        never moves them (its moments stay zero) and they come out bit for bit as they went in.
        """
        for _, parameter in norm_parameters(model):
            parameter.register_hook(_zero_rows(self.first))

    @staticmethod
    def order(count: int, trained: list[int]) -> list[int]:
        """The run's row order of a network of `count` rows that trains its rows `trained`:
        the others first, as they were, then the trained ones."""
        return [row for row in range(count) if row not in trained] + trained

    @staticmethod
    def undo(order: list[int]) -> list[int]:
        """The row order that puts rows reordered by `order` back where they were."""
        return sorted(range(len(order)), key=order.__getitem__)


def _zero_rows(rows: int) -> Callable[[torch.Tensor], torch.Tensor]:
    def hook(grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        grad[:rows] = 0
        return grad

    return hook


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
    def of(cls, config: TrainConfig) -> StylePlan:
        """The plan of a run's options (its paintings, --add-to, --retune)."""
        paintings = list(config.paintings)
        if config.add_to:
            return cls.adding(Path(config.add_to), paintings, config.variant, config.retune)
        if not paintings:  # a bare trainer, e.g. in a test
            return cls([Painting(Path("-"), "style")], False)
        return cls(paintings, multi=len(paintings) > 1)

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
            order = TrainedRows.order(len(infos), again)
            kept = order[: len(order) - len(again)]
            existing, retuned = [infos[i] for i in kept], [infos[i] for i in again]
            base = with_rows(base, order)
            return cls(list(paintings), True, existing, base, lineage, retuned, training, order)
        taken = [p.name for p in paintings if p.name in rows]
        if taken:
            raise LivestyleError(
                f"--add-to {path}: already has a style {taken[0]!r} (--retune trains it again)"
            )
        return cls(list(paintings), True, infos, base, lineage, [], training)

    def written_rows(
        self, model: TransformerNet, infos: list[StyleInfo]
    ) -> tuple[TransformerNet, list[StyleInfo]]:
        """The trained network and its styles in the base's row order (a retune reordered
        them), so a retuned file lists its styles as its base did."""
        if not self.rows:
            return model, infos
        back = TrainedRows.undo(self.rows)
        return with_rows(model, back), [infos[i] for i in back]

    def grown_record(self, run: dict) -> dict:
        """The written network's "training": its base's record of the body, the files it grew
        from, and every run that grew it (this one last) with the styles each trained."""
        record = dict(self.base_training)
        runs = record.pop("grown", [])
        run = {**run, "styles": [p.name for p in self.paintings], "retune": bool(self.retuned)}
        return {**record, "grown_from": self.lineage, "grown": [*runs, run]}

    @property
    def trained(self) -> TrainedRows:
        """The rows this run trains: the new (or retuned) styles, after the kept ones."""
        return TrainedRows(len(self.existing), self.count)

    @property
    def count(self) -> int:
        return len(self.existing) + len(self.paintings)

    def style_weights(self, run_weight: float) -> list[float]:
        """The style weight of each trained style (its painting's, else the run's)."""
        return [run_weight if p.style_weight is None else p.style_weight for p in self.paintings]

    def temporal_weights(self, run_weight: float) -> list[float]:
        """The temporal weight of each trained style (its painting's, else the run's)."""
        return [
            run_weight if p.temporal_weight is None else p.temporal_weight for p in self.paintings
        ]

    def build_model(self, variant: str, grain: float = 0.0) -> TransformerNet:
        """A fresh network (with the canvas grain of strength `grain` as an input, if not 0),
        or the --add-to network grown by the new styles' norm rows."""
        fresh = replace(VARIANTS[variant], grain=grain)
        if not self.multi:
            return TransformerNet(fresh)
        # A grown network keeps its base's shape, which may be a variant's former one.
        config = fresh if self.base is None else self.base.config
        model = TransformerNet(config, styles=self.count)
        if self.base is not None:
            grow_from(model, self.base, self.trained)
        return model


def grow_from(model: TransformerNet, base: TransformerNet, trained: TrainedRows) -> None:
    """Copy `base` into `model`, which has more style rows; only the trained rows stay
    trainable (the body is frozen, the other rows by `trained.freeze_others`).

    The new rows start at the mean of the kept ones: a style between the known ones, from
    where a few hundred steps reach the new painting (a fresh identity start takes longer).
    Trained rows `base` already has (styles retuned) start where they were.
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
                new[len(old) :] = old[: trained.first].mean(dim=0)
    trained.freeze_others(model)


def start_from(model: TransformerNet, path: Path, names: list[str]) -> None:
    """Copy a trained network's weights into `model` (a new run's network, whose styles are
    `names`): the same shape, the padding may differ (a zero-padded network learns from a
    reflection-padded one in a few hundred steps), each style's norm row found by name. A
    network without the canvas grain can start one with it: the grain's input weights start
    at 0, so the new network first paints exactly what the old one did."""
    base, infos = load_network(path)
    same_shape = replace(base.config, padding=model.config.padding, grain=model.config.grain)
    if same_shape != model.config:
        raise LivestyleError(
            f"--init-from {path}: a {variant_name(base.config)} network of another shape "
            f"({base.config.widths}, {base.config.res_blocks} blocks) than this run's"
        )
    if base.config.grain not in (0.0, model.config.grain):
        # Its weights expect the grain at that strength: another one would repaint it.
        raise LivestyleError(
            f"--init-from {path}: its canvas grain is {base.config.grain:g}, this run's "
            f"{model.config.grain:g} (--grain {base.config.grain:g} continues it)"
        )
    rows = {info.name: i for i, info in enumerate(infos)}
    base = with_rows(base, [rows[name] for name in names])
    state = model.state_dict()
    for name, value in base.state_dict().items():
        if value.dim() == 4 and value.shape[1] < state[name].shape[1]:  # the grain's inputs
            value = _with_zero_inputs(value, state[name].shape[1], model.config.shuffle)
        state[name] = value.reshape(state[name].shape)
    model.load_state_dict(state)


def _with_zero_inputs(weight: torch.Tensor, inputs: int, shuffled: bool) -> torch.Tensor:
    """A first convolution's weight widened to `inputs` input channels by zero weights for
    the grain channel (in a shuffled network, its 4 block positions follow each RGB's)."""
    out, old, *kernel = weight.shape
    if not shuffled:
        return torch.cat([weight, weight.new_zeros(out, inputs - old, *kernel)], 1)
    # SpaceToDepth orders channels block position major: (position, channel).
    positions = 4
    per_position = weight.reshape(out, positions, old // positions, *kernel)
    extra = per_position.new_zeros(out, positions, (inputs - old) // positions, *kernel)
    return torch.cat([per_position, extra], 2).reshape(out, inputs, *kernel)


def with_rows(net: TransformerNet, order: list[int]) -> TransformerNet:
    """A copy of a network as a multi-style one with its styles' norm rows in `order` (a
    single-style network has one)."""
    copy = TransformerNet(net.config, styles=len(order))
    state = copy.state_dict()
    index = torch.tensor(order)
    for name, value in net.state_dict().items():
        if ".norm." in name:  # (styles, C), or (C,) for a single-style network
            value = value.reshape(max(net.styles, 1), -1)[index]
        state[name] = value.reshape(state[name].shape)
    copy.load_state_dict(state)
    return copy
