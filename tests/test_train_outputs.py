"""What `livestyle train` writes: every output is checked before the first step, a write
that still fails (a full disk) is one line, a style name another installed network has is
refused, and names never lead out of their folders."""

# The photo and painting fixtures come from test_train; pytest passes them by argument name.
# ruff: noqa: F811

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from safetensors import SafetensorError

from livestyle import cli
from livestyle.train.trainer import Trainer
from tests.media import write_network, write_styles
from tests.test_train import _argv, data, one_thread, painting  # noqa: F401

SMALL = ["--steps", "2", "--size", "32", "--batch", "2"]
FULL_DISK = "No space left on device"


def _option(argv: list[str], option: str, value: str | None) -> list[str]:
    """argv with `option` set to `value` (None: left out)."""
    if option in argv:
        i = argv.index(option)
        del argv[i : i + 2]
    return argv if value is None else [*argv, option, value]


def _fails_in_one_line(capsys, argv: list[str], *parts: str) -> str:
    capsys.readouterr()
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("livestyle: error:"), err
    for part in parts:
        assert part in err, err
    return err


@pytest.fixture
def no_steps(monkeypatch) -> None:
    """Training that must not begin: a step fails the test."""

    def step(self, pool):
        raise AssertionError("a training step ran")

    monkeypatch.setattr(Trainer, "step", step)


def _not_a_folder(tmp_path: Path) -> Path:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    return blocker


@pytest.mark.parametrize(
    ("option", "where"),
    [
        ("--out-dir", lambda tmp: _not_a_folder(tmp) / "styles"),
        ("--out", lambda tmp: _not_a_folder(tmp) / "x.lite.safetensors"),
        ("--out", lambda tmp: tmp),  # a folder, not a file
        ("--run-dir", lambda tmp: _not_a_folder(tmp) / "run"),
    ],
    ids=["out-dir under a file", "out under a file", "out a folder", "run-dir under a file"],
)
def test_unwritable_outputs_are_refused_before_the_first_step(
    tmp_path, data, painting, capsys, no_steps, option, where
):
    argv = _argv(tmp_path, data, painting, *SMALL, "--checkpoint-every", "1")
    argv = _option(argv, option, str(where(tmp_path)))
    _fails_in_one_line(capsys, argv, "cannot write", option)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_read_only_style_folder_is_refused_before_the_first_step(
    tmp_path, data, painting, capsys, no_steps
):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        (locked / "probe").touch()
    except PermissionError:
        pass
    else:  # root (or CAP_DAC_OVERRIDE) writes anywhere: the folder is writable to it
        pytest.skip("this user writes in read-only folders")
    argv = _option(_argv(tmp_path, data, painting, *SMALL), "--out-dir", str(locked))
    _fails_in_one_line(capsys, argv, "cannot write", str(locked), "--out-dir")


class FullDisk:
    """An encoded picture whose writing fills the disk."""

    def tofile(self, path: str) -> None:
        Path(path).write_bytes(b"half")
        raise OSError(28, FULL_DISK)


class FullDiskCsv:
    def writerow(self, row) -> None:
        raise OSError(28, FULL_DISK)


def _fill_disk(monkeypatch, what: str) -> None:
    """Make the writer of `what` meet a full disk."""
    if what == "style":

        def save_file(tensors, path, metadata=None):
            Path(path).write_bytes(b"half")
            raise SafetensorError(f"Error while serializing: I/O error: {FULL_DISK} (os error 28)")

        monkeypatch.setattr("livestyle.weights.save_file", save_file)
    elif what == "checkpoint":

        def save(obj, path):
            Path(path).write_bytes(b"half")
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704")

        monkeypatch.setattr("livestyle.train.checkpoints.torch.save", save)
    elif what == "preview":
        monkeypatch.setattr("livestyle.train.data.cv2.imencode", lambda *a, **k: (True, FullDisk()))
    else:
        monkeypatch.setattr("livestyle.train.csvlog.csv.writer", lambda file: FullDiskCsv())


@pytest.mark.parametrize("what", ["style", "checkpoint", "preview", "losses"])
def test_a_write_that_fails_during_the_run_is_one_line(
    tmp_path, data, painting, capsys, monkeypatch, what
):
    argv = _argv(tmp_path, data, painting, *SMALL, "--checkpoint-every", "1")
    argv += ["--progress", "lines"]  # no bar on stderr: the error line is all there is
    _fill_disk(monkeypatch, what)
    err = _fails_in_one_line(capsys, argv, "cannot write")
    assert "Traceback" not in err
    if what != "checkpoint":  # torch says a full disk in its own words
        assert FULL_DISK in err
    left = [p.name for folder in ("styles", "run") for p in (tmp_path / folder).glob("*.tmp")]
    assert left == []  # nothing half-written stays behind


@pytest.fixture
def installed(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A "shipped" network colours (red, green, blue) and a user folder with the style mine;
    the package's own styles are not installed."""
    shipped, home = tmp_path / "shipped", tmp_path / "xdg"
    write_network(shipped / "colours.lite.safetensors")
    user = write_styles(home / "livestyle" / "styles", names=("mine",))
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(shipped))
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    monkeypatch.setattr("livestyle.discovery.PACKAGE_WEIGHTS_DIR", tmp_path / "no-package")
    return shipped, user


def _into_user_folder(argv: list[str], name: str) -> list[str]:
    argv = _option(argv, "--out-dir", None)  # the default: the user's styles folder
    argv[argv.index("--name") + 1] = name
    return argv


def test_a_new_style_may_not_take_an_installed_networks_style_name(
    tmp_path, data, painting, capsys, installed, no_steps
):
    shipped, user = installed
    argv = _into_user_folder(_argv(tmp_path, data, painting, *SMALL), "green")
    _fails_in_one_line(capsys, argv, "'green'", "colours.lite.safetensors", "--name")
    # Added to a network, too: mine is another file's style.
    argv = _into_user_folder(_argv(tmp_path, data, painting, *SMALL), "mine")
    err = _fails_in_one_line(capsys, [*argv, "--add-to", "colours"], "'mine'", "--name")
    assert str(user / "mine.lite.safetensors") in err
    assert sorted(p.name for p in user.iterdir()) == ["mine.lite.safetensors"]


def test_names_that_replace_or_stay_apart_are_no_clash(tmp_path, data, painting, capsys, installed):
    shipped, user = installed
    # The same style trained again: its file is replaced.
    assert cli.main(_into_user_folder(_argv(tmp_path, data, painting, *SMALL), "mine")) == 0
    # Outside the folders the app reads: nothing is hidden.
    argv = _argv(tmp_path, data, painting, *SMALL[:2])
    argv[argv.index("--name") + 1] = "green"
    assert cli.main(argv) == 0
    assert (tmp_path / "styles" / "green.lite.safetensors").is_file()


@pytest.mark.parametrize("name", ["../../evil", "..", "a/b", "x" * 300])
@pytest.mark.parametrize("given_by", ["--name", "manifest"])
def test_style_names_never_lead_out_of_their_folders(
    tmp_path, data, painting, monkeypatch, name, given_by
):
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)  # the run folder's default is runs/NAME, here
    argv = _option(_argv(tmp_path, data, painting, *SMALL[:2]), "--run-dir", None)
    if given_by == "manifest":
        manifest = tmp_path / "paintings.json"
        manifest.write_text(json.dumps([{"painting": str(painting), "name": name}]))
        argv = _option(_option(argv, "--style-image", None), "--name", None)
        argv += ["--manifest", str(manifest)]
    else:
        argv[argv.index("--name") + 1] = name
    assert cli.main(argv) == 0
    [style] = (tmp_path / "styles").iterdir()
    assert style.name.endswith(".lite.safetensors")
    [run] = (work / "runs").iterdir()
    assert (run / "losses.csv").is_file()
    outside = {p.name for p in tmp_path.iterdir()} - {"styles", "deep", "photos", "state"}
    assert outside <= {"painting.png", "paintings.json", "config"}, outside
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["work"]
