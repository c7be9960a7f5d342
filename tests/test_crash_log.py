"""A pipeline thread that dies of a bug leaves its traceback in errors.log in the user's
state folder, and the run's one-line error names that file."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import livestyle
from livestyle.commands.live import run_headless
from livestyle.core import crashlog
from livestyle.core.errors import SourceError
from livestyle.live.pipeline import Pipeline
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

from .fakes import SIZE, BuggyCamera, BuggyWriter, DemoClip


def stylize_with_a_bug(frame: np.ndarray, index: int | None = None) -> np.ndarray:
    raise KeyError("x")


@pytest.mark.parametrize(
    "thread, raised_in, line",
    [
        ("livestyle-capture", "grab_from_driver", "KeyError: 'x'"),
        ("livestyle-inference", "stylize_with_a_bug", "KeyError: 'x'"),
        (
            "livestyle-recorder",
            "encode_packet",
            "recording to {out} stopped: encoder broke; no frame was saved",
        ),
    ],
)
def test_a_thread_crash_names_the_log_that_holds_its_traceback(
    stylizer: Stylizer,
    tmp_path: Path,
    state_folder: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch,
    thread: str,
    raised_in: str,
    line: str,
) -> None:
    log = state_folder / "errors.log"
    state_folder.mkdir()
    log.write_text("an earlier report\n")  # the log is appended to, never replaced
    source: DemoSource = DemoSource(*SIZE, fps=60)
    writer = None
    if thread == "livestyle-capture":
        source = BuggyCamera(fail_at=10, fps=60)
    elif thread == "livestyle-inference":
        monkeypatch.setattr(stylizer, "stylize", stylize_with_a_bug)
    else:
        writer = BuggyWriter(fail_after=3)
    pipeline = Pipeline(source, stylizer, max_frames=60, writer_factory=writer or BuggyWriter())
    out = tmp_path / "take.mp4"
    assert run_headless(pipeline, out) == 1
    assert pipeline.error_log == log
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"livestyle: error: {line.format(out=out)} (details: {log})"
    assert not any("Traceback" in e for e in err)  # the traceback is in the file only
    text = log.read_text()
    assert text.startswith("an earlier report\n")
    report = text.split("an earlier report\n", 1)[1]
    header, _, trace = report.partition("\n")
    assert f"thread {thread}:" in header and f"livestyle {livestyle.__version__}" in header
    assert (
        f"Python {platform.python_version()}" in header and f"torch {torch.__version__}" in header
    )
    assert trace.startswith("Traceback (most recent call last):")
    assert f", in {raised_in}\n" in trace
    assert trace.rstrip().endswith("KeyError: 'x'" if "KeyError" in line else "encoder broke")


def test_an_unwritable_log_still_gives_the_one_line(
    stylizer: Stylizer, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch
) -> None:
    # A file where the folder should be: mkdir fails even for root (a read-only home).
    (tmp_path / "home").write_text("")
    monkeypatch.setenv("LIVESTYLE_STATE_DIR", str(tmp_path / "home" / "state"))
    pipeline = Pipeline(BuggyCamera(fail_at=5, fps=60), stylizer)
    assert run_headless(pipeline, None) == 1
    assert pipeline.error_log is None
    assert capsys.readouterr().err.strip().splitlines()[-1] == "livestyle: error: KeyError: 'x'"


def test_a_user_error_in_a_thread_writes_no_traceback(
    stylizer: Stylizer, state_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    class UnpluggedCamera(DemoClip):
        def read(self) -> np.ndarray | None:
            raise SourceError("camera 0 was unplugged")

    pipeline = Pipeline(UnpluggedCamera(), stylizer)
    assert run_headless(pipeline, None) == 1
    assert pipeline.error_log is None and not state_folder.exists()
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "livestyle: error: camera 0 was unplugged"


@pytest.mark.parametrize(
    "system, env, expected",
    [
        ("linux", {}, "{home}/.local/state/livestyle"),
        ("linux", {"XDG_STATE_HOME": "/xdg/state"}, "/xdg/state/livestyle"),
        ("linux", {"XDG_STATE_HOME": "relative"}, "{home}/.local/state/livestyle"),
        ("darwin", {}, "{home}/Library/Logs/livestyle"),
        ("win32", {"LOCALAPPDATA": "/appdata/local"}, "/appdata/local/livestyle/Logs"),
        ("win32", {}, "{home}/AppData/Local/livestyle/Logs"),
        ("linux", {"LIVESTYLE_STATE_DIR": "/elsewhere"}, "/elsewhere"),
        ("darwin", {"LIVESTYLE_STATE_DIR": "/elsewhere"}, "/elsewhere"),
    ],
)
def test_state_folder_per_platform(
    tmp_path: Path, monkeypatch, system: str, env: dict[str, str], expected: str
) -> None:
    for name in ("LIVESTYLE_STATE_DIR", "XDG_STATE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", system)
    assert crashlog.state_dir() == Path(expected.format(home=tmp_path))
    assert crashlog.error_log_path() == Path(expected.format(home=tmp_path)) / "errors.log"
