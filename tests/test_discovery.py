"""Style discovery: a file that would not load neither shows a style nor hides one, name
clashes between networks are said, `livestyle styles` numbers what the app loads, and names
from files never lead out of their folder."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from livestyle import cli
from livestyle.commands import live
from livestyle.commands.options import load_stylizer
from livestyle.discovery import load_styles, scan_styles
from livestyle.model import VARIANTS
from livestyle.weights import file_digest, file_stem

from .media import rewrite_style, write_network, write_styles


@pytest.fixture
def folders(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A "shipped" folder with the network colours (red, green, blue), an empty user folder,
    and nothing else installed (not even the package's own styles)."""
    shipped, home = tmp_path / "shipped", tmp_path / "xdg"
    write_network(shipped / "colours.lite.safetensors")
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(shipped))
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setattr("livestyle.discovery.PACKAGE_WEIGHTS_DIR", tmp_path / "no-package")
    return shipped, home / "livestyle" / "styles"


def grown_copy(base: Path, dest: Path) -> Path:
    """What `train --add-to` writes: base's styles and one more, naming base as its origin."""
    write_network(dest, names=("red", "green", "blue", "mine"), seed=8)
    _edit(dest, training=json.dumps({"grown_from": [file_digest(base)]}))
    return dest


def _edit(path: Path, tensors: dict | None = None, **meta: str) -> None:
    with safe_open(str(path), framework="pt") as f:
        old = f.metadata()
    save_file(load_file(str(path)) if tensors is None else tensors, str(path), {**old, **meta})


def break_file(path: Path, how: str) -> None:
    if how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "missing tensor":
        tensors = load_file(str(path))
        tensors.pop(sorted(tensors)[-1])
        _edit(path, tensors)
    else:  # wrong shapes: the metadata lists five styles, the norm tensors have four rows
        with safe_open(str(path), framework="pt") as f:
            entries = json.loads(f.metadata()["styles"])
        _edit(path, styles=json.dumps([*entries, {"name": "extra"}]))


def listing(capsys, *argv: str) -> list[str]:
    capsys.readouterr()
    assert cli.main(["styles", "--variant", "lite", *argv]) == 0
    return capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("how", ["wrong shapes", "missing tensor", "truncated"])
def test_a_broken_grown_network_hides_nothing(folders, how, caplog, capsys):
    shipped, user = folders
    base = shipped / "colours.lite.safetensors"
    grown = grown_copy(base, user / "colours.lite.safetensors")
    assert {s.path for s in scan_styles(prefer_variant="lite")} == {grown}  # intact: replaces
    break_file(grown, how)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        styles = scan_styles(prefer_variant="lite")
    assert [(s.name, s.path) for s in styles] == [(n, base) for n in ("red", "green", "blue")]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and str(grown) in warnings[0] and "\n" not in warnings[0]
    assert [info.name for _, info in load_styles(styles)] == ["red", "green", "blue"]
    lines = listing(capsys)
    assert [line.split()[:2] for line in lines] == [["1", "red"], ["2", "green"], ["3", "blue"]]
    assert cli.main(["live", "--headless", "--source", "demo", "--max-frames", "1"]) == 0


def test_finding_styles_reads_no_tensor(styles_dir, monkeypatch):
    """Start-up checks headers only: the tensors are read once, when the styles load."""

    def no_tensors(*args, **kwargs):
        raise AssertionError("a tensor was read")

    monkeypatch.setattr("livestyle.weights.load_file", no_tensors)
    assert [s.name for s in scan_styles([styles_dir], "lite")] == ["alpha", "beta", "gamma"]


def test_a_file_whose_tensors_do_not_match_gets_no_key_number(tmp_path, monkeypatch, capsys):
    folder = write_styles(tmp_path / "styles")  # alpha, beta, gamma: keys 1, 2, 3
    rewrite_style(  # beta claims the standard network's shape over its lite tensors
        folder / "beta.lite.safetensors",
        folder / "beta.lite.safetensors",
        lambda config: config.update(VARIANTS["standard"].to_dict()),
    )
    _only(folder, tmp_path, monkeypatch)
    lines = listing(capsys)
    assert [line.split()[:2] for line in lines] == [["1", "alpha"], ["2", "gamma"]]
    assert keys_of(lines) == app_keys()


def test_styles_the_live_view_leaves_out_get_no_key_number(tmp_path, monkeypatch, capsys):
    folder = write_styles(tmp_path / "styles", names=("alpha", "beta"))  # orders 0 and 1
    write_network(folder / "heavy.standard.safetensors", ("slow",), "standard")  # order 10
    write_network(folder / "late.lite.safetensors", ("zeta",))  # order 10, after "slow"
    _only(folder, tmp_path, monkeypatch)
    lines = listing(capsys)
    keys = [line.split()[:2] for line in lines]
    assert keys == [["1", "alpha"], ["2", "beta"], ["-", "slow"], ["3", "zeta"]]
    assert "not live on this device" in lines[2]
    assert keys_of(lines) == app_keys()


def _only(folder: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("livestyle.discovery.PACKAGE_WEIGHTS_DIR", tmp_path / "no-package")


def keys_of(lines: list[str]) -> dict[str, str]:
    """Key number -> style name, from `livestyle styles`."""
    return {m[1]: m[2] for line in lines if (m := re.match(r" ?(\d)  (\S+)", line))}


def app_keys() -> dict[str, str]:
    """Key number -> style name, as the live window loads them."""
    args = cli.build_parser().parse_args(["live", "--headless", "--variant", "lite"])
    stylizer = load_stylizer(live.config_from_args(args).style_options, live=True)
    return {str(i): s.info.name for i, s in enumerate(stylizer.styles[:9], start=1)}


def test_a_name_clash_between_networks_is_said(folders, tmp_path, caplog, capsys):
    shipped, user = folders
    other = write_styles(user, names=("green",)) / "green.lite.safetensors"
    with caplog.at_level(logging.WARNING):
        styles = scan_styles(prefer_variant="lite")
    assert [s.path for s in styles if s.name == "green"] == [shipped / "colours.lite.safetensors"]
    clash = [r.getMessage() for r in caplog.records if "hidden" in r.getMessage()]
    assert len(clash) == 1 and "'green'" in clash[0], clash
    assert str(other) in clash[0] and str(shipped / "colours.lite.safetensors") in clash[0]
    hidden = [line for line in listing(capsys) if "is hidden by" in line]
    assert len(hidden) == 1 and str(other) in hidden[0] and "colours.lite" in hidden[0]


def test_variants_and_grown_networks_are_no_clash(folders, caplog, capsys):
    shipped, user = folders
    write_network(shipped / "colours.standard.safetensors", variant="standard")
    grown_copy(shipped / "colours.lite.safetensors", user / "colours.lite.safetensors")
    # A folder named twice (--styles-dir and $LIVESTYLE_STYLES_DIR) is read once.
    with caplog.at_level(logging.WARNING):
        styles = scan_styles([shipped, user, shipped], prefer_variant="lite")
    assert sorted(s.name for s in styles) == ["blue", "green", "mine", "red"]
    assert caplog.records == []
    lines = listing(capsys, "--styles-dir", str(shipped))
    assert len(lines) == 4 and not any("hidden" in line for line in lines)


@pytest.mark.parametrize(
    "name",
    ["../../evil", "a/b", "..", ".", "/etc/passwd", "a\\..\\b", "CON", "nul.txt", "x" * 300,
     "é" * 200, "\x00", ""],
)  # fmt: skip
def test_style_names_become_file_names_inside_their_folder(tmp_path, name):
    stem = file_stem(name)
    assert stem and "/" not in stem and "\\" not in stem and not stem.startswith(".")
    path = tmp_path / f"{stem}.standard.safetensors.tmp"  # the longest name written
    assert path.resolve().parent == tmp_path.resolve()
    path.write_bytes(b"")  # a name the file system takes (at most 255 bytes)
    windows_devices = {"con", "prn", "aux", "nul", "com1", "lpt1"}
    assert stem.split(".")[0].lower() not in windows_devices
