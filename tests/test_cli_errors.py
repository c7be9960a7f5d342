"""Absurd command-line options: refused in one line with exit code 2, before anything loads."""

from __future__ import annotations

import pytest

from livestyle.cli import main


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
