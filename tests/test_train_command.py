"""`livestyle train`'s options: their checks and their help."""

# The photo and painting fixtures come from test_train; pytest passes them by argument name.
# ruff: noqa: F811

from __future__ import annotations

import re
from pathlib import Path

import pytest

from livestyle import cli
from livestyle.commands.train import DEFAULTS, config_from_args
from livestyle.core.errors import LivestyleError
from livestyle.train.config import LossWeights, Outputs, TrainConfig
from livestyle.train.lossnet import LOSS_NETWORKS, load_loss_network
from livestyle.train.paintings import Painting
from tests.test_train import _argv, _cli_error, data, painting  # noqa: F401


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"lr": -1.0}, "--lr must be a positive number, not -1.0"),
        ({"steps": 0}, "--steps must be a positive number, not 0"),
        ({"max_minutes": float("inf")}, "--max-minutes must be >= 0, not inf"),
        ({"outputs": Outputs(checkpoint_every=-1)}, "--checkpoint-every must be >= 0"),
        ({"weights": LossWeights(tv=-1.0)}, "--tv-weight must be >= 0, not -1.0"),
        ({"flat_patches": 1.5}, "--flat-patches must be a chance from 0 to 1, not 1.5"),
        (
            {"local_style_where": "eyes"},
            "--local-style-where must be one of all, off-faces, flat, not 'eyes'",
        ),
        ({"local_style_where": "off-faces"}, "--local-style-where off-faces needs --faces FILE"),
        ({"local_style_where": "flat"}, "--local-style-where flat needs --flat-patches CHANCE"),
        # Two impossible numbers: the one the command line has always named first.
        ({"lr": -1.0, "batch": 0}, "--batch must be a positive number, not 0"),
    ],
)
def test_a_config_refuses_impossible_numbers(fields, message) -> None:
    with pytest.raises(LivestyleError, match=f"^{re.escape(message)}$"):
        TrainConfig(**fields)


def test_the_options_defaults_are_the_configs(tmp_path) -> None:
    """A config built from only the options a run must give is the default TrainConfig: one
    recipe, whether a run comes from the command line or a test."""
    painting = str(tmp_path / "p.png")
    argv = ["train", "--style-image", painting, "--data", "photos", "--out-dir", "styles"]
    config = config_from_args(cli.build_parser().parse_args(argv))
    expected = TrainConfig(
        paintings=(Painting(Path(painting), "p"),), data="photos", outputs=Outputs(out_dir="styles")
    )
    assert config == expected
    assert DEFAULTS["style_weight"] == expected.weights.style == 3.0


def test_the_loss_networks_are_the_registrys() -> None:
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    [action] = [a for a in train_parser._actions if "--loss-net" in a.option_strings]
    assert tuple(action.choices) == LOSS_NETWORKS == ("efficientnet-lite0", "vgg16")
    assert action.default == TrainConfig().loss_net
    with pytest.raises(LivestyleError) as caught:
        load_loss_network("resnet")
    message = "unknown loss network 'resnet'; choose one of efficientnet-lite0, vgg16"
    assert str(caught.value) == message


def test_train_help_shows_defaults_and_explains_every_option() -> None:
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    text = train_parser.format_help()
    for expected in ("(default: 1000)", "(default: 256)", "(default: 3.0)", "(default: lite)"):
        assert expected in text
    for action in train_parser._actions:
        assert action.help, f"{action.option_strings} has no help text"


@pytest.mark.parametrize(
    ("faces", "extra", "message"),
    [
        (None, ["--face-weight", "2"], "--face-weight needs --faces FILE"),
        ("missing.json", ["--face-weight", "2"], "missing.json: no such file"),
        ("faces.json", [], "faces.json: not a JSON file"),
        ("faces.json", ["--face-weight", "-1"], "--face-weight must be >= 0, not -1.0"),
    ],
)
def test_face_options_that_cannot_work_are_one_line(
    tmp_path, data, painting, capsys, faces, extra, message
) -> None:
    (tmp_path / "faces.json").write_text("{not json")
    argv = _argv(tmp_path, data, painting, "--steps", "1", *extra)
    if faces:
        argv += ["--faces", str(tmp_path / faces)]
    assert message in _cli_error(capsys, argv)


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "not a readable JSON file"),
        ("[]", "non-empty JSON list"),
        ('[{"name": "x"}]', 'needs a "painting"'),
        ('[{"painting": "a.png", "hue": "red"}]', "unknown key"),
        ('[{"painting": "a.png", "order": "first"}]', "item 1"),
        ('[{"painting": "a.png", "name": "x"}, {"painting": "b.png", "name": "x"}]', "share"),
        ('[{"painting": "a.png", "temporal_weight": -1}]', "temporal_weight must be >= 0"),
        ('[{"painting": "a.png", "stroke_scale": 9}]', "stroke_scale must be between"),
        ('[{"painting": "a.png", "stroke_scale": {"tiny": 2}}]', "names no variant 'tiny'"),
        ('[{"painting": "a.png", "marks": 3}]', "marks must be between 0 and 2"),
        ('[{"painting": "a.png", "marks": {"lite": -1}}]', "marks must be between"),
        ('[{"painting": "a.png", "marks": {"tiny": 1}}]', "marks names no variant 'tiny'"),
        ('[{"painting": "a.png", "ink": 2}]', "ink must be between 0 and 1"),
        ('[{"painting": "a.png", "ink": {"lite": "nan"}}]', "ink must be between"),
        ('[{"painting": "a.png", "colour": 1.5}]', "colour must be between 0 and 1"),
        ('[{"painting": "a.png", "colour": {"tiny": 1}}]', "colour names no variant 'tiny'"),
        ('[{"painting": "a.png", "dots": -0.5}]', "dots must be between 0 and 1"),
        ('[{"painting": "a.png", "dots": {"tiny": 1}}]', "dots names no variant 'tiny'"),
    ],
)
def test_bad_manifests_are_one_line_errors(tmp_path, content, message):
    manifest = tmp_path / "m.json"
    manifest.write_text(content)
    args = cli.build_parser().parse_args(
        ["train", "--manifest", str(manifest), "--data", str(tmp_path)]
    )
    with pytest.raises(LivestyleError, match=message):
        config_from_args(args)
