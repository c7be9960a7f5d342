"""Saved settings: the live window's choices last between runs, explicit options win, and a
bad file is one warning line, never a failure. Every test has its own XDG_CONFIG_HOME
(conftest.config_folder)."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from livestyle.cli import build_parser, main
from livestyle.commands import live
from livestyle.config import LiveConfig
from livestyle.discovery import load_styles, scan_styles
from livestyle.presets import (
    VIEWS,
    Presets,
    choose_saved_style,
    current_presets,
    fill_options,
    load_presets,
    parse_presets,
    save_presets,
    settings_path,
)
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.ui.frames import ViewMode

from .media import wait_until_recording, write_network

REPO = Path(__file__).resolve().parent.parent
SETTINGS = "settings.json"
SAVED = Presets(
    style="gamma", strength=0.6, view="split", preserve_color=True, infer_size=40, marks=0.5
)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def write_settings(data: object) -> Path:
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_settings_live_in_the_config_folder(config_folder: Path, monkeypatch) -> None:
    assert settings_path() == config_folder / "livestyle" / SETTINGS
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CONFIG_HOME", "relative/path")  # the XDG spec: ignore it
        monkeypatch.setenv("HOME", str(config_folder / "home"))
        assert settings_path() == config_folder / "home" / ".config" / "livestyle" / SETTINGS


def test_saved_settings_read_back(caplog) -> None:
    assert save_presets(SAVED)
    assert load_presets() == SAVED
    assert json.loads(settings_path().read_text())["view"] == "split"  # plain JSON, by name
    assert warnings(caplog) == []
    leftovers = [p.name for p in settings_path().parent.iterdir()]
    assert leftovers == ["settings.json"]  # the temporary file was renamed, not left


def test_no_file_is_no_settings_and_no_warning(caplog) -> None:
    assert load_presets() == Presets()
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    "content", ['{"strength": 0.5', "\x00\xff garbage", "[1, 2]", '"split"', "null"]
)
def test_a_corrupt_file_is_ignored_with_one_warning(content: str, caplog) -> None:
    path = write_settings(content)
    assert load_presets() == Presets()
    lines = warnings(caplog)
    assert len(lines) == 1 and str(path) in lines[0]


def test_bad_values_are_ignored_one_warning_the_rest_kept(caplog) -> None:
    write_settings(
        {
            "style": "gamma",
            "strength": 3,
            "view": "sideways",
            "preserve_color": "yes",
            "infer_size": 2,
            "colour": "blue",
        }
    )
    assert load_presets() == Presets(style="gamma")
    (line,) = warnings(caplog)
    for part in ("strength 3", 'view "sideways"', "preserve_color", "infer_size 2", "colour"):
        assert part in line


@pytest.mark.parametrize(
    "key, value",
    [
        ("strength", True),
        ("strength", float("nan")),
        ("strength", -0.1),
        ("infer_size", 320.5),
        ("infer_size", 100000),
        ("style", ""),
        ("style", 3),
        ("preserve_color", 1),
    ],
)
def test_each_bad_value_is_refused(key: str, value: object) -> None:
    presets, problems = parse_presets({key: value})
    assert presets == Presets() and len(problems) == 1 and key in problems[0]


def test_nulls_mean_nothing_saved() -> None:
    assert parse_presets({"strength": None, "infer_size": None}) == (Presets(), [])


def test_views_are_the_windows_view_modes() -> None:
    assert set(VIEWS) == {mode.value for mode in ViewMode}


def test_a_failed_write_keeps_the_old_file_and_only_warns(monkeypatch, caplog) -> None:
    save_presets(SAVED)

    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    assert not save_presets(Presets(style="beta"))
    assert load_presets() == SAVED  # the old file, whole
    assert [p.name for p in settings_path().parent.iterdir()] == ["settings.json"]
    (line,) = warnings(caplog)
    assert "No space left" in line


def test_an_unwritable_folder_only_warns(config_folder: Path, caplog) -> None:
    config_folder.mkdir(parents=True)
    (config_folder / "livestyle").write_text("a file where the folder should be")
    assert not save_presets(SAVED)
    assert len(warnings(caplog)) == 1


def live_config(*argv: str) -> LiveConfig:
    return live.config_from_args(build_parser().parse_args(["live", *argv]))


def filled_options(config: LiveConfig) -> tuple[float | None, bool | None, int | None]:
    options = fill_options(config, SAVED).style_options
    return options.strength, options.preserve_color, options.infer_size


def test_options_given_win_over_the_saved_ones() -> None:
    config = live_config("--strength", "0.9", "--no-preserve-color")
    assert filled_options(config) == (0.9, False, 40)
    assert filled_options(live_config()) == (0.6, True, 40)


def test_filling_in_the_saved_options_leaves_the_given_config_as_it_was() -> None:
    config = live_config("--strength", "0.9")
    filled = fill_options(config, SAVED)
    assert config == live_config("--strength", "0.9")  # unchanged: a new config came back
    expected = dataclasses.replace(
        config.style_options, strength=0.9, preserve_color=True, infer_size=40, marks=0.5
    )
    assert filled == dataclasses.replace(config, style_options=expected)
    assert fill_options(config, Presets()) == config  # nothing saved: nothing filled in


@pytest.mark.parametrize(
    "argv", [["--infer-size", "64"], ["--infer-scale", "0.5"], ["--stroke-scale", "2"]]
)
def test_any_size_option_given_outranks_the_saved_size(argv: list[str]) -> None:
    config = live_config(*argv)
    given = config.style_options.infer_size
    assert fill_options(config, SAVED).style_options.infer_size == given


def test_saved_style_is_chosen_by_name_and_a_missing_one_ignored(stylizer: Stylizer, caplog):
    choose_saved_style(stylizer, Presets(style="gamma"))
    assert stylizer.active.name == "gamma"
    choose_saved_style(stylizer, Presets(style="deleted_painting"))
    (line,) = warnings(caplog)
    assert "deleted_painting" in line
    assert stylizer.active.name == "gamma"  # unchanged


def test_a_saved_blend_comes_back(tmp_path: Path) -> None:
    network = write_network(tmp_path / "trio.lite.safetensors", names=("red", "green", "blue"))
    stylizer = Stylizer(load_styles(scan_styles([network.parent])), "cpu", "fp32")
    choose_saved_style(stylizer, Presets(style="green:0.25,blue:0.75"))
    assert [(stylizer.styles[i].info.name, round(w, 2)) for i, w in stylizer.mix] == [
        ("green", 0.25),
        ("blue", 0.75),
    ]
    assert current_presets(stylizer, "stylized", None).style == "green:0.25,blue:0.75"


def test_what_is_saved_is_what_the_window_shows(stylizer: Stylizer) -> None:
    stylizer.select(1)
    stylizer.strength = 0.7000000000000001  # ten presses of − from full, in floats
    stylizer.preserve_color = True
    stylizer.network_size = NetworkSize(24)  # out of memory shrank it: not a choice to keep
    saved = current_presets(stylizer, "original", 64)
    assert saved == Presets("beta", 0.7, "original", True, 64, marks=0.0)


def test_the_live_window_starts_from_its_settings_and_saves_them(styles_env, tmp_path) -> None:
    """The whole `livestyle live` window in a real process (in this one, a closed window's
    app.quit() would starve later tests' windows), ended by SIGTERM as a logout would."""
    save_presets(SAVED)
    recording = tmp_path / "live.mp4"
    command = [sys.executable, "-m", "livestyle", "live", "--source", "demo", "--width", "64"]
    command += ["--height", "48", "--out-dir", str(tmp_path), "--record", str(recording)]
    command += ["--strength", "0.9"]
    proc = subprocess.Popen(
        command, cwd=REPO, env=styles_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_until_recording(recording, proc)  # frames are flowing
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, err
    # Every saved choice came back and was saved again (the view too: it started in split),
    # except the strength given on the command line, which is now the saved one.
    assert load_presets() == dataclasses.replace(SAVED, strength=0.9)


def test_headless_runs_neither_read_nor_write_settings(styles_env, monkeypatch) -> None:
    save_presets(SAVED)
    before = settings_path().read_text()
    stylizers: list[Stylizer] = []
    real = live.load_stylizer

    def spy(options, **kwargs):
        stylizers.append(real(options, **kwargs))
        return stylizers[-1]

    monkeypatch.setattr(live, "load_stylizer", spy)
    argv = ["live", "--headless", "--source", "demo", "--width", "64", "--height", "48"]
    assert main([*argv, "--max-frames", "2"]) == 0
    (stylizer,) = stylizers
    chosen = (stylizer.active.name, stylizer.strength, stylizer.preserve_color)
    assert chosen == ("alpha", 1.0, False)
    assert settings_path().read_text() == before
