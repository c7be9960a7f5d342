"""`livestyle train --add-to`: a network named by name, the grown copy in place of the file it
grew from (scan_styles, `livestyle styles`), progress lines for programs, --max-photos."""

# The photo and painting fixtures come from test_train; pytest passes them by argument name.
# ruff: noqa: F811

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from livestyle import cli
from livestyle.core.errors import LivestyleError
from livestyle.discovery import PACKAGE_WEIGHTS_DIR, scan_styles, superseded
from livestyle.train.data import PhotoPool, sample_photos
from livestyle.weights import file_digest, read_lineage, read_style_infos
from tests.media import write_network
from tests.test_train import _argv, _train, data, one_thread, painting  # noqa: F401

SMALL = ["--steps", "2", "--size", "32", "--batch", "2"]
SHIPPED = PACKAGE_WEIGHTS_DIR / "paintings.lite.safetensors"


@pytest.fixture
def installed(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A "shipped" folder with the network colours (red, green, blue) and an empty user folder;
    the styles the commands see are those two."""
    shipped, home = tmp_path / "shipped", tmp_path / "xdg"
    write_network(shipped / "colours.lite.safetensors")
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(shipped))
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return shipped, home / "livestyle" / "styles"


def _add(tmp_path, data, painting, add_to: str, *extra: str, name: str = "Test Style"):
    argv = _argv(tmp_path, data, painting, *SMALL, "--add-to", add_to, *extra)
    i = argv.index("--out-dir")
    del argv[i : i + 2]  # where --add-to writes by default: the user's styles folder
    argv[argv.index("--name") + 1] = name
    return _train(argv)


@pytest.mark.parametrize("name", ["colours", "green"])
def test_add_to_takes_a_network_or_style_name(tmp_path, data, painting, installed, name):
    shipped, user = installed
    result = _add(tmp_path, data, painting, name)
    assert result.style_path == user / "colours.lite.safetensors"
    names = [info.name for info in read_style_infos(result.style_path)]
    assert names == ["red", "green", "blue", "Test Style"]


def test_add_to_an_unknown_name_is_one_line(tmp_path, data, painting, installed):
    with pytest.raises(LivestyleError, match="--add-to nothing: no such style file, nor"):
        _add(tmp_path, data, painting, "nothing")
    with pytest.raises(LivestyleError, match="no such style file"):
        _add(tmp_path, data, painting, str(tmp_path / "colours.lite.safetensors"))


def test_the_grown_copy_replaces_the_file_it_grew_from(tmp_path, data, painting, installed):
    shipped, user = installed
    base = shipped / "colours.lite.safetensors"
    grown = _add(tmp_path, data, painting, "colours").style_path
    assert read_lineage(grown) == [file_digest(base)]
    styles = scan_styles([shipped, user], prefer_variant="lite")
    assert [s.name for s in styles] == ["red", "green", "blue", "Test Style"]
    assert {s.path for s in styles} == {grown}  # one network: its styles blend, fade, load once
    # Grown again, from the grown copy: the newest replaces both ancestors.
    again = _add(tmp_path / "2", data, painting, "colours", name="Second")
    assert again.style_path == grown
    assert read_lineage(grown)[1:] == [file_digest(base)]
    styles = scan_styles([shipped, user], prefer_variant="lite")
    assert sorted(s.name for s in styles) == ["Second", "Test Style", "blue", "green", "red"]
    assert {s.path for s in styles} == {grown}
    # A network that merely shares names (not grown from it) does not hide the shipped one.
    other = write_network(tmp_path / "other" / "colours.lite.safetensors", seed=3)
    assert {s.path for s in scan_styles([shipped, other.parent])} == {base}


def test_styles_command_lists_each_style_once_after_growing(
    tmp_path, data, painting, installed, capsys
):
    _add(tmp_path, data, painting, "colours")
    capsys.readouterr()
    assert cli.main(["styles", "--variant", "lite"]) == 0
    lines = capsys.readouterr().out.splitlines()  # the package's own styles too
    for name in ("red", "green", "blue", "Test Style"):
        mine = [line for line in lines if re.match(rf" ?\S+  {re.escape(name)}( \(|  )", line)]
        assert len(mine) == 1, (name, lines)
        assert mine[0].endswith("xdg/livestyle/styles/colours.lite.safetensors"), mine


@pytest.mark.skipif(not SHIPPED.is_file(), reason="no shipped network in the package")
def test_growing_the_shipped_network_by_name_shadows_it(
    tmp_path, data, painting, monkeypatch, capsys
):
    """The real case: `--add-to paintings` grows the package's file into the user's folder
    (the package may be read-only), and the app shows each style once, from that copy."""
    monkeypatch.delenv("LIVESTYLE_STYLES_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    in_key_order = sorted(read_style_infos(SHIPPED), key=lambda info: (info.order, info.name))
    shipped_names = [info.name for info in in_key_order]  # rows need not be in key order
    grown = _add(tmp_path, data, painting, "paintings", "--steps", "1").style_path
    assert grown.parent == tmp_path / "xdg" / "livestyle" / "styles"
    styles = scan_styles(prefer_variant="lite")
    assert [s.name for s in styles if s.name in shipped_names] == shipped_names
    assert sorted(s.name for s in styles) == sorted([*shipped_names, "Test Style"])
    assert {s.path for s in styles} == {grown}


def test_progress_lines_replace_the_bar(tmp_path, data, painting, capsys):
    _train(_argv(tmp_path, data, painting, *SMALL, "--progress", "lines"))
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["progress 0 2", "progress 1 2", "progress 2 2"]
    assert "step/s" not in captured.err  # no tqdm bar


def test_max_photos_picks_a_reproducible_subset(tmp_path, data, painting, monkeypatch):
    paths = [Path(f"{i}.jpg") for i in range(10)]
    picked = sample_photos(paths, 4, seed=0)
    assert len(picked) == 4 and picked == sorted(picked) and set(picked) <= set(paths)
    assert sample_photos(paths, 4, seed=0) == picked
    assert sample_photos(paths, 4, seed=1) != picked
    assert sample_photos(paths, 0, seed=0) == paths
    assert sample_photos(paths, 20, seed=0) == paths
    loaded: list[int] = []
    real_load = PhotoPool.load.__func__

    def load(cls, paths, size, faces=None):
        loaded.append(len(paths))
        return real_load(cls, paths, size, faces)

    monkeypatch.setattr(PhotoPool, "load", classmethod(load))
    _train(_argv(tmp_path, data, painting, *SMALL, "--max-photos", "3"))
    assert loaded == [3]  # of the 4 image files
    with pytest.raises(LivestyleError, match="--max-photos must be >= 0"):
        _train(_argv(tmp_path, data, painting, *SMALL, "--max-photos", "-1"))


def test_identical_copies_without_lineage_hide_nothing(tmp_path):
    a = write_network(tmp_path / "a" / "colours.lite.safetensors")
    b = tmp_path / "b" / "colours.lite.safetensors"
    b.parent.mkdir()
    shutil.copy(a, b)
    assert superseded([a, b]) == set()
    assert read_lineage(a) == []
