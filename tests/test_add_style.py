"""A painting dropped on the live window becomes a style: the training child, its progress in
the overlay, the grown network in place of the old one, cancel, failures, refusals.

One test runs the real `livestyle train --add-to` (2 steps at 32 px on a tiny network);
the others run a fake child that prints what train prints, so they take no training time.
"""

from __future__ import annotations

import re
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QApplication

from livestyle.addstyle import AdderOptions, StyleAdder
from livestyle.addstyle import job as job_module
from livestyle.addstyle.job import train_command
from livestyle.addstyle.options import TrainSettings, spare_cores
from livestyle.addstyle.request import Request, grown_path, photo_folder, style_name
from livestyle.discovery import load_styles, scan_styles
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession
from livestyle.stylizer import Stylizer
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource
from livestyle.weights import read_style_infos

from .media import write_network
from .test_train_data import write_photo

WAIT_MS = 30_000  # a deadline for a condition: generous, a busy CPU is slow
TRAIN_WAIT_MS = 180_000  # the real child: start-up, loss network, 2 steps (a busy CPU: slow)
TINY = TrainSettings(threads=1, steps=2, size=32)


@pytest.fixture
def network(tmp_path: Path) -> Path:
    """The "installed" folder: one multi-style network, colours.lite (red, green, blue)."""
    return write_network(tmp_path / "installed" / "colours.lite.safetensors")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        write_photo(folder / f"{i}.png", i)
    return folder


@pytest.fixture
def painting(tmp_path: Path) -> Path:
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, ::8] = (30, 200, 250)
    image[::6, :, 0] = 220
    path = tmp_path / "drops" / "Sunny Stripes.png"
    path.parent.mkdir()
    cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    return tmp_path / "user" / "styles"


def make_adder(stylizer: Stylizer, network: Path, photos: Path | None, user_dir: Path, **kw):
    return StyleAdder(
        stylizer, [network.parent, user_dir], "lite", photos, user_dir, kw.pop("settings", TINY),
        **kw,
    )  # fmt: skip


@pytest.fixture
def window(
    qtbot, network: Path, photos: Path, user_dir: Path, painting: Path, tmp_path
) -> Iterator[LiveWindow]:
    """A running window over the network, with an adder that trains tiny (and a painting to
    drop in tmp_path/drops)."""
    styles = load_styles(scan_styles([network.parent], prefer_variant="lite"))
    stylizer = Stylizer(styles, torch.device("cpu"), "fp32")
    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer, out_dir=tmp_path)
    adder = make_adder(stylizer, network, photos, user_dir, live_fps=lambda: pipeline.stats.fps)
    win = LiveWindow(LiveSession(pipeline, out_dir=tmp_path, adder=adder), size=(320, 240))
    qtbot.addWidget(win)
    win.start()
    win.show()
    qtbot.waitUntil(lambda: win.frames_shown > 0, timeout=WAIT_MS)
    yield win
    win.shutdown()


def fake_child(tmp_path: Path, body: str):
    """A command factory running `body` as the child (argv: --out OUT), not real training."""
    script = tmp_path / "fake_train.py"
    script.write_text("import sys, time, pathlib\nout = pathlib.Path(sys.argv[2])\n" + body)
    return lambda request, settings, out: [sys.executable, str(script), "--out", str(out)]


def drop(window: LiveWindow, *urls: QUrl) -> None:
    """What Qt delivers when files are dragged onto the window and let go."""
    mime = QMimeData()
    mime.setUrls(list(urls))
    action, buttons = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    enter = QDragEnterEvent(QPoint(5, 5), action, mime, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(5, 5), action, mime, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)


def file_url(path: Path) -> QUrl:
    return QUrl.fromLocalFile(str(path))


def leftovers(*folders: Path) -> list[Path]:
    """Everything in the folders (a half-written file, a hidden partial...)."""
    return [p for folder in folders if folder.exists() for p in folder.rglob("*")]


# ----------------------------------------------------------------------------- the real child


def test_a_dropped_painting_becomes_the_next_style(qtbot, window, network, painting, user_dir):
    stylizer = window.session.stylizer
    frame = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    before = [stylizer.stylize(frame, index=i).image for i in range(3)]
    drop(window, file_url(painting))
    job = window.session.adder.job
    assert job is not None and job.request.name == "sunny_stripes"
    qtbot.waitUntil(lambda: job.state in ("done", "failed"), timeout=TRAIN_WAIT_MS)
    assert job.state == "done", job.error
    assert (job.step, job.total) == (2, 2)  # the child's progress lines were read
    # The grown network, in the user's folder, holds every style; nothing else is left.
    grown = user_dir / "colours.lite.safetensors"
    assert [i.name for i in read_style_infos(grown)] == ["red", "green", "blue", "sunny_stripes"]
    assert leftovers(user_dir) == [grown]
    assert not job.out.parent.exists()  # the temp folder
    # Under the next key, on screen now, and it stylizes; the old styles as before.
    assert [s.info.name for s in stylizer.styles] == ["red", "green", "blue", "sunny_stripes"]
    assert {s.info.path for s in stylizer.styles} == {grown}
    assert stylizer.active.name == "sunny_stripes"
    assert "added sunny_stripes: key 4" in window.overlay_text()
    after = [stylizer.stylize(frame, index=i).image for i in range(4)]
    for old, new in zip(before, after, strict=False):
        np.testing.assert_array_equal(old, new)
    assert all(np.abs(after[3].astype(int) - a.astype(int)).mean() > 0.5 for a in after[:3])
    shown = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown > shown + 2, timeout=WAIT_MS)  # still live
    window.update()
    # A restart finds the same styles, each once (the grown copy hides the installed file).
    assert [s.name for s in scan_styles([network.parent, user_dir])] == [
        s.info.name for s in stylizer.styles
    ]


# ----------------------------------------------------------------------------- fake children


def test_progress_shows_and_x_cancels_leaving_nothing(qtbot, window, tmp_path, user_dir):
    window.session.adder._command = fake_child(
        tmp_path,
        textwrap.dedent("""
            out.write_bytes(b"half a network")  # what a kill mid-write would leave
            print("progress 0 4", flush=True)
            print("progress 1 4", flush=True)
            time.sleep(60)
        """),
    )
    qtbot.waitUntil(lambda: window.session.pipeline.stats.fps > 0, timeout=WAIT_MS)
    drop(window, file_url(tmp_path / "drops" / "Sunny Stripes.png"))
    job = window.session.adder.job
    # The progress, and the frame rate before training to compare with the one shown now.
    progress = re.compile(r"adding sunny_stripes: 25% \(X cancels, \d+\.\d fps before\)")
    qtbot.waitUntil(lambda: progress.search(window.overlay_text()) is not None, timeout=WAIT_MS)
    assert re.search(r"^\d+\.\d fps", window.overlay_text(), re.MULTILINE)  # the rate now
    assert job.out.is_file()
    qtbot.keyClick(window, Qt.Key.Key_X)
    assert job.state == "cancelled"
    assert job._proc.poll() is not None  # the child is gone
    assert not job.out.parent.exists()
    assert leftovers(user_dir) == []
    assert "cancelled adding sunny_stripes" in window.overlay_text()
    assert len(window.session.stylizer.styles) == 3


def test_a_failed_child_shows_its_last_error_line(qtbot, window, tmp_path, user_dir, monkeypatch):
    # A slow disk: the temp folder's removal takes a while, and the job must not say it
    # failed before it is gone (it did, and CI once looked in between).
    remove = job_module.shutil.rmtree
    monkeypatch.setattr(
        job_module.shutil, "rmtree", lambda *a, **k: (time.sleep(0.3), remove(*a, **k))
    )
    window.session.adder._command = fake_child(
        tmp_path,
        textwrap.dedent("""
            print("progress 0 4", flush=True)
            out.write_bytes(b"not a network")
            print("livestyle: error: --data /nowhere: no photos found (jpg, png)", flush=True)
            sys.exit(2)
        """),
    )
    drop(window, file_url(tmp_path / "drops" / "Sunny Stripes.png"))
    job = window.session.adder.job
    qtbot.waitUntil(lambda: job.state == "failed", timeout=WAIT_MS)
    text = window.overlay_text()
    assert "adding sunny_stripes failed: --data /nowhere: no photos found (jpg, png)" in text
    assert leftovers(user_dir) == []
    assert not job.out.parent.exists()


def test_a_file_that_does_not_read_back_is_not_installed(qtbot, window, tmp_path, user_dir):
    """Exit code 0 is not enough: the file must be a network holding the new style."""
    window.session.adder._command = fake_child(tmp_path, 'out.write_bytes(b"garbage")\n')
    drop(window, file_url(tmp_path / "drops" / "Sunny Stripes.png"))
    job = window.session.adder.job
    qtbot.waitUntil(lambda: job.state == "failed", timeout=WAIT_MS)
    assert "not a valid livestyle weights file" in job.error
    assert leftovers(user_dir) == []


def test_closing_the_window_kills_the_child(qtbot, window, tmp_path, user_dir):
    window.session.adder._command = fake_child(tmp_path, "time.sleep(60)\n")
    drop(window, file_url(tmp_path / "drops" / "Sunny Stripes.png"))
    job = window.session.adder.job
    window.close()
    assert job._proc.poll() is not None
    assert job.state == "cancelled" and not job.out.parent.exists()


# ----------------------------------------------------------------------------- refusals


def test_what_cannot_be_added_is_one_line(qtbot, window, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a painting")
    drop(window, file_url(notes))
    assert window.session.adder.job is None
    lines = [line for line in window.overlay_text().splitlines() if "notes.txt" in line]
    assert lines == ["cannot add notes.txt: not an image livestyle can read"]
    drop(window, QUrl("https://example.org/painting.jpg"))  # from a web page: no local file
    assert window.session.adder.job is None
    assert "drop a painting's file" in window.overlay_text()


def test_a_second_drop_while_training_is_refused(qtbot, window, tmp_path):
    window.session.adder._command = fake_child(tmp_path, "time.sleep(60)\n")
    drop(window, file_url(tmp_path / "drops" / "Sunny Stripes.png"))
    first = window.session.adder.job
    drop(window, file_url(tmp_path / "drops" / "Sunny Stripes.png"))
    assert window.session.adder.job is first
    assert "already adding sunny_stripes (X cancels it)" in window.overlay_text()


def test_without_photos_the_drop_says_so_and_starts_nothing(
    qtbot, stylizer, network, user_dir, painting, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_PICTURES_DIR", str(tmp_path / "no pictures"))
    adder = make_adder(stylizer, network, None, user_dir)
    assert adder.add(painting) is None
    text, kind = adder.line()
    assert text.startswith("no photos to train on: start livestyle with --train-data")
    assert kind == "error"
    # A Pictures folder with a few photos is used.
    pictures = tmp_path / "Pictures"
    pictures.mkdir()
    for i in range(4):
        write_photo(pictures / f"{i}.jpg", i)
    monkeypatch.setenv("XDG_PICTURES_DIR", str(pictures))
    assert photo_folder(None) == pictures
    with pytest.raises(ValueError, match="no photos in --train-data"):
        photo_folder(tmp_path / "no pictures")


def test_a_child_that_cannot_start_is_one_line(
    qtbot, stylizer, network, photos, user_dir, painting, tmp_path, monkeypatch
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    missing = str(tmp_path / "no such python")
    adder = make_adder(stylizer, network, photos, user_dir, command=lambda *_: [missing])
    assert adder.add(painting) is None
    text, kind = adder.line()
    assert text.startswith("cannot start training: ") and kind == "error"
    assert leftovers(tmp_path / "tmp", user_dir) == []


# ----------------------------------------------------------------------------- pieces


def test_replace_styles_keeps_the_choice_by_name(stylizer: Stylizer, styles_dir: Path) -> None:
    stylizer.select(stylizer.find("beta"))
    loaded = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    stylizer.replace_styles(list(reversed(loaded)))
    assert [s.info.name for s in stylizer.styles] == ["gamma", "beta", "alpha"]
    assert (stylizer.active.name, stylizer.index) == ("beta", 1)
    frame = np.zeros((24, 32, 3), np.uint8)
    assert stylizer.stylize(frame).style.name == "beta"
    stylizer.replace_styles(loaded[2:])  # beta is gone: the first style
    assert stylizer.active.name == "gamma"


def test_names_paths_and_threads(tmp_path, network, monkeypatch):
    assert style_name(Path("The Starry Night.jpg"), set()) == "the_starry_night"
    assert style_name(Path("x.png"), {"x", "x_2"}) == "x_3"
    user = tmp_path / "user"
    assert grown_path(network, user) == user / "colours.lite.safetensors"
    user.mkdir()
    (user / "colours.lite.safetensors").write_bytes(b"someone else's")
    assert grown_path(network, user) == user / "colours-2.lite.safetensors"
    assert grown_path(user / "colours.lite.safetensors", user).name == "colours.lite.safetensors"

    class Engine:
        threads = 3

    class Live:
        device, engine = torch.device("cpu"), Engine()

    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert spare_cores(Live()) == 4  # 8 cores - 3 network threads - 1 capture and display
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert spare_cores(Live()) == 1  # never none


def test_the_adder_for_a_live_run_takes_its_options(stylizer, tmp_path, network, photos):
    """AdderOptions carry what `livestyle live` says: its styles folders first (a reload finds
    the same styles), the variant asked for (auto: the device's), the photos to train on."""
    options = AdderOptions(styles_dirs=(network.parent,), variant="standard", train_data=photos)
    adder = StyleAdder.for_live(stylizer, options, lambda: 12.5)
    assert adder.dirs[0] == network.parent and len(adder.dirs) > 1  # then the default ones
    assert (adder.variant, adder.data, adder.stylizer) == ("standard", photos, stylizer)
    assert adder.live_fps() == 12.5  # the view's rate, the yardstick of training's cost
    assert StyleAdder.for_live(stylizer, AdderOptions(), lambda: 0.0).variant == "lite"  # CPU
    assert StyleAdder.for_live(stylizer, AdderOptions(), lambda: 0.0).data is None


def test_the_child_command_trains_only_what_the_request_says(tmp_path, network, photos):
    dest = tmp_path / "user" / "colours.lite.safetensors"
    request = Request(Path("p.png"), "p", network, "lite", 13, photos, dest)
    out = tmp_path / "tmp" / dest.name
    argv = train_command(request, TINY, out)
    assert argv[:4] == [sys.executable, "-m", "livestyle", "train"]
    pairs = dict(zip(argv[4::2], argv[5::2], strict=True))
    assert (pairs["--add-to"], pairs["--out"], pairs["--progress"]) == (
        str(network),
        str(out),
        "lines",
    )
    assert (pairs["--steps"], pairs["--threads"], pairs["--order"]) == ("2", "1", "13")
    assert pairs["--data"] == str(photos) and pairs["--name"] == "p"
