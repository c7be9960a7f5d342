"""Every `livestyle` command in the README's ```bash blocks runs, so the README cannot drift.

Each command runs as written except for what makes it end quickly: live commands get
--headless and a few frames, cameras become the demo, `train` gets a tiny run, and the
files the README names (photo.jpg, clip.mp4, painting.jpg, ~/Pictures) are made here.
Commands run in README order in one folder: `livestyle styles` after `train` sees the new
style, as the README promises.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livestyle.cli import build_parser, main
from livestyle.discovery import load_styles, scan_styles, shipped_styles_dir
from livestyle.stylizer import Stylizer
from livestyle.weights import read_style_infos

from .media import write_video

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```bash\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_commands(text: str) -> list[list[str]]:
    """The argv (after `livestyle`) of every livestyle line in the bash blocks."""
    commands = []
    for block in FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():  # join continued lines
            words = shlex.split(line, comments=True)
            if words and words[0] == "livestyle":
                commands.append(words[1:])
    return commands


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def set_option(argv: list[str], name: str, value: str) -> list[str]:
    if name in argv:
        argv = list(argv)
        argv[argv.index(name) + 1] = value
        return argv
    return [*argv, name, value]


def quick_live(argv: list[str]) -> list[str]:
    """Headless, a few frames, and the demo instead of a camera."""
    argv = argv if argv[:1] == ["live"] else ["live", *argv]
    source = option(argv, "--source")
    if source is None or source.isdigit():  # a camera: none in a test run
        argv = set_option(argv, "--source", "demo")
    if "--headless" not in argv:
        argv.append("--headless")
    return set_option(argv, "--max-frames", "3")


def quick_form(argv: list[str], commands: set[str], home: Path, here: Path) -> list[str]:
    """The README's command in a form that ends in seconds, paths moved under the test."""
    argv = [str(here) + word[4:] if word.startswith("/tmp/") else word for word in argv]
    argv = [str(home) + word[1:] if word.startswith("~/") else word for word in argv]
    command = next((w for w in argv if w in commands), None)
    if command is None or command == "live":
        return quick_live(argv)
    if command == "train":
        for name, value in [("--steps", "1"), ("--size", "32"), ("--batch", "1")]:
            argv = set_option(argv, name, value)
        return [*argv, "--preview-every", "0", "--checkpoint-every", "0", "--threads", "1"]
    if command == "eval-stability":
        return [*argv, "--max-frames", "3", "--long-side", "64"]
    return argv


def make_files(here: Path, home: Path) -> None:
    """What the README's commands read: a clip, a photo, a painting, a photos folder."""
    write_video(here / "clip.mp4", frames=6, fps=12.0, size=(64, 48))
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    photo = cv2.resize(small, (64, 48), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(here / "photo.jpg"), photo)
    cv2.imwrite(str(here / "painting.jpg"), photo[:, ::-1])
    # The multi-style examples: paintings a-d and a manifest naming two of them.
    for i, name in enumerate("abcd"):
        cv2.imwrite(str(here / f"{name}.jpg"), np.roll(photo[::-1], 5 * i, axis=1))
    manifest = [{"painting": "a.jpg", "name": "one"}, {"painting": "b.jpg", "name": "two"}]
    (here / "paintings.json").write_text(json.dumps(manifest))
    (home / "Pictures").mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(home / "Pictures" / f"p{i}.jpg"), np.roll(photo, 7 * i, axis=1))


def test_every_style_the_readme_names_is_shipped() -> None:
    """The examples once used style names that were never shipped: every `--style` of the
    README's commands (a name or a blend) must be one the shipped networks carry, and a
    blend must be of one network, as `livestyle` looks them up."""
    styles = load_styles(scan_styles([shipped_styles_dir()], prefer_variant="lite"))
    stylizer = Stylizer(styles, "cpu", backend="torch")
    choices = {option(argv, "--style") for argv in readme_commands(README.read_text())} - {None}
    assert choices, "the README's commands name no style"
    for choice in choices:
        names = [part.split(":")[0] for part in choice.split(",")]
        indices = [stylizer.find(name) for name in names]  # KeyError: not shipped
        assert len(indices) == 1 or stylizer.can_blend(indices), choice


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path, monkeypatch, capsys) -> None:
    commands = readme_commands(README.read_text())
    assert len(commands) >= 12, "the README's bash blocks were not found"
    here, home = tmp_path / "work", tmp_path / "home"
    here.mkdir()
    make_files(here, home)
    monkeypatch.chdir(here)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("LIVESTYLE_STYLES_DIR", raising=False)
    parser = build_parser()
    names = {n for a in parser._subparsers._group_actions for n in a.choices}  # type: ignore[union-attr]
    threads = torch.get_num_threads()  # train --threads 1 sets it for the whole process
    try:
        for argv in commands:
            code = main(quick_form(argv, names, home, here))
            err = capsys.readouterr().err
            assert code == 0, f"livestyle {shlex.join(argv)} -> exit {code}: {err[-1500:]}"
    finally:
        torch.set_num_threads(threads)
    # What the README says the commands leave behind.
    assert (here / "out" / "photo-starry_night.jpg").is_file()
    assert (here / "out" / "clip-starry_night.mp4").is_file()
    styles = home / ".local" / "share" / "livestyle" / "styles"
    assert (styles / "my_style.lite.safetensors").is_file()
    # The network grown by --add-to holds the old styles and the new one.
    grown = read_style_infos(styles / "mine.lite.safetensors")
    assert [info.name for info in grown] == ["a", "b", "c", "d"]
