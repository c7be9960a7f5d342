"""The painting at two sizes as style targets (`train --also-style-size`, issue 25's lever):
each tap's Gram target is the mean of the painting's Grams at both sizes."""

# The photo and painting fixtures come from test_train; pytest passes them by argument name.
# ruff: noqa: F811

from __future__ import annotations

import pytest
import torch

from livestyle import cli
from livestyle.commands.train import config_from_args
from livestyle.core.errors import LivestyleError
from livestyle.train.config import TrainConfig
from livestyle.train.data import load_style_image
from livestyle.train.distributed import Dist
from livestyle.train.plan import StylePlan
from livestyle.train.trainer import Trainer
from livestyle.weights import read_training
from tests.test_train import _argv, _train, data, one_thread, painting  # noqa: F401


def _config(argv: list[str]) -> TrainConfig:
    return config_from_args(cli.build_parser().parse_args(argv))


def _targets(config: TrainConfig, *sizes: int) -> dict[str, torch.Tensor]:
    trainer = Trainer(config, Dist(), torch.device("cpu"), StylePlan.of(config))
    path = config.paintings[0].path
    first, *second = [[load_style_image(path, config.size, size)] for size in sizes]
    trainer.set_styles(first, second[0] if second else None)
    return trainer.targets


def test_two_sizes_ask_for_the_mean_of_both_sizes_grams(tmp_path, data, painting):
    config = _config(_argv(tmp_path, data, painting))
    small, large = _targets(config, 24), _targets(config, 64)
    both = _targets(config, 24, 64)
    for name, target in both.items():
        torch.testing.assert_close(target, (small[name] + large[name]) / 2)
        assert not torch.allclose(small[name], large[name]), name  # the sizes differ


def test_the_colour_term_keeps_the_first_sizes_colours(tmp_path, data, painting):
    config = _config(_argv(tmp_path, data, painting, "--color-weight", "1"))
    trainer = Trainer(config, Dist(), torch.device("cpu"), StylePlan.of(config))
    path = config.paintings[0].path
    first, second = load_style_image(path, 32, 24), load_style_image(path, 32, 64)
    trainer.set_styles([first], [second])
    alone = Trainer(config, Dist(), torch.device("cpu"), StylePlan.of(config))
    alone.set_styles([first])
    for mine, its in zip(trainer.colors, alone.colors, strict=True):
        torch.testing.assert_close(mine, its)


def test_the_option_reaches_the_run_and_its_recipe(tmp_path, data, painting):
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--also-style-size", "48")
    assert _config(argv).also_style_size == 48
    assert read_training(_train(argv).style_path)["also_style_size"] == 48


@pytest.mark.parametrize("value", ["0", "-5"])
def test_a_size_that_is_not_positive_is_refused(tmp_path, data, painting, value):
    with pytest.raises(LivestyleError, match="--also-style-size must be a positive number"):
        _config(_argv(tmp_path, data, painting, "--also-style-size", value))
