"""`livestyle train`'s options: their checks and their help."""

from __future__ import annotations

import argparse

import pytest

from livestyle import cli
from livestyle.commands.train import validate
from livestyle.core.errors import LivestyleError


def test_args_are_validated_before_any_work() -> None:
    args = argparse.Namespace(
        steps=1,
        size=32,
        batch=1,
        preview_every=0,
        checkpoint_every=0,
        threads=0,
        style_size=None,
        lr=-1.0,
        content_weight=1.0,
        style_weight=1.0,
        tv_weight=0.0,
        temporal_weight=0.0,
        max_minutes=0.0,
        name="x",
    )
    with pytest.raises(LivestyleError, match="--lr"):
        validate(args)


def test_train_help_shows_defaults_and_explains_every_option() -> None:
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    text = train_parser.format_help()
    for expected in ("(default: 1000)", "(default: 256)", "(default: 3.0)", "(default: lite)"):
        assert expected in text
    for action in train_parser._actions:
        assert action.help, f"{action.option_strings} has no help text"
