"""Each command's frozen configuration: built from the parsed options, with the command
line's defaults as its own, so a config built with only some fields is what the CLI gives."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from livestyle.bounds import OutOfBounds, network_side, unit_interval
from livestyle.cli import build_parser
from livestyle.commands import eval_stability, live, styles, stylize
from livestyle.commands.options import infer_pixels, unit_float
from livestyle.config import (
    LiveConfig,
    StabilityConfig,
    StyleOptions,
    StylesConfig,
    StylizeConfig,
)


def parsed(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_the_defaults_are_the_command_lines() -> None:
    assert live.config_from_args(parsed("live")) == LiveConfig()
    assert styles.config_from_args(parsed("styles")) == StylesConfig()
    assert stylize.config_from_args(parsed("stylize", "in.png", "--style", "beta")) == (
        StylizeConfig(inputs=(Path("in.png"),), style_options=StyleOptions(style="beta"))
    )
    clip = parsed("eval-stability", "--video", "clip.mp4", "--style", "all")
    assert eval_stability.config_from_args(clip) == StabilityConfig(Path("clip.mp4"), ("all",))


def test_every_live_option_lands_in_its_field(tmp_path: Path) -> None:
    argv = ["live", "--source", "demo", "--width", "64", "--height", "48", "--fps", "15"]
    argv += ["--loop", "--max-frames", "9", "--style", "a:0.5,b:0.5", "--stroke-scale", "2"]
    argv += ["--styles-dir", str(tmp_path), "--variant", "lite", "--device", "cpu"]
    argv += ["--precision", "fp32", "--backend", "torch", "--infer-size", "200"]
    argv += ["--infer-scale", "0.5", "--strength", "0.4", "--preserve-color", "--no-guided"]
    argv += ["--no-steady", "--record", "take.mp4", "--overwrite", "--out-dir", "shots"]
    argv += ["--headless", "--virtual-cam", "--fullscreen", "--train-data", str(tmp_path)]
    options = StyleOptions(
        styles_dirs=(tmp_path,),
        style="a:0.5,b:0.5",
        variant="lite",
        device="cpu",
        precision="fp32",
        backend="torch",
        infer_size=200,
        infer_scale=0.5,
        strength=0.4,
        preserve_color=True,
        guided=False,
    )
    assert live.config_from_args(parsed(*argv)) == LiveConfig(
        source="demo",
        width=64,
        height=48,
        fps=15.0,
        loop=True,
        max_frames=9,
        style_options=options,
        stroke_scale=2.0,
        steady=False,
        record=Path("take.mp4"),
        overwrite=True,
        out_dir=Path("shots"),
        headless=True,
        virtual_cam=True,
        fullscreen=True,
        train_data=tmp_path,
    )


def test_eval_stabilitys_styles_are_measured_not_selected() -> None:
    argv = ["eval-stability", "--video", "c.mp4", "--style", "a", "--style", "b", "--json", "r"]
    config = eval_stability.config_from_args(parsed(*argv))
    assert (config.styles, config.json_path) == (("a", "b"), Path("r"))
    assert config.style_options.style is None


def test_a_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LiveConfig().headless = True  # type: ignore[misc]


def test_the_bounds_say_the_same_on_the_command_line_and_in_the_settings() -> None:
    with pytest.raises(OutOfBounds, match="must be between 0 and 1, got 1.5"):
        unit_interval("1.5")
    with pytest.raises(argparse.ArgumentTypeError, match="must be between 0 and 1, got 1.5"):
        unit_float("1.5")
    with pytest.raises(OutOfBounds, match="the network's smallest input, got 2"):
        network_side("2")
    with pytest.raises(argparse.ArgumentTypeError, match="the network's smallest input, got 2"):
        infer_pixels("2")
    # Not a number at all: argparse's own "invalid unit_float value" message, as before.
    with pytest.raises(ValueError) as refused:
        unit_float("abc")
    assert not isinstance(refused.value, OutOfBounds)


def test_not_a_number_keeps_argparses_message(capsys) -> None:
    with pytest.raises(SystemExit):
        parsed("live", "--strength", "abc")
    assert "invalid unit_float value: 'abc'" in capsys.readouterr().err
