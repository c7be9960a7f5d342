"""`livestyle stylize` on a video: every frame in order, a truncated input, an interrupt."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.cli import main
from livestyle.steady import Steadier
from livestyle.stylizer import Stylizer

from .fakes import SIZE, ListWriter, noise
from .media import video_frames, write_video


def test_stylize_writes_every_frame_stylized_in_order(
    styles_env: dict[str, str], stylizer: Stylizer, tmp_path: Path, monkeypatch
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=10, fps=10.0, size=SIZE)
    source_frames = video_frames(clip)
    writer = ListWriter()
    monkeypatch.setattr("livestyle.commands.stylize.open_video_writer", writer)
    assert main(["stylize", str(clip), "--style", "beta", "-o", str(tmp_path / "o.mp4")]) == 0
    reference = stylizer  # the same style files, loaded apart from the command
    reference.select(reference.find("beta"))
    steadier = Steadier()  # video is steadied (--steady, the default), frame after frame
    assert len(writer.frames) == len(source_frames) == 10
    for got, frame in zip(writer.frames, source_frames, strict=True):
        np.testing.assert_array_equal(got, steadier(frame, reference.stylize(frame).image))


def test_stylize_truncated_video_keeps_what_is_readable(
    styles_env: dict[str, str], tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    clip = tmp_path / "cut.avi"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, SIZE)
    rng = np.random.default_rng(1)
    for _ in range(20):
        writer.write(noise(rng))
    writer.release()
    clip.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # the index claims 20
    readable = len(video_frames(clip))
    out = tmp_path / "o.mp4"
    assert main(["stylize", str(clip), "--style", "alpha", "-o", str(out)]) == 0
    assert 0 < readable < 20 and len(video_frames(out)) == readable
    assert f"({readable} frames)" in capsys.readouterr().out


def test_interrupted_stylize_keeps_its_frames_under_the_partial_name(
    styles_env: dict[str, str], tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture
) -> None:
    """Half a video never takes the finished file's name; its frames stay playable beside it."""
    clip = write_video(tmp_path / "clip.mp4", frames=20, fps=10.0, size=SIZE)
    real = Stylizer.stylize
    calls = []

    def interrupt_at_8(self: Stylizer, frame: np.ndarray, index: int | None = None):
        calls.append(1)
        if len(calls) > 8:
            raise KeyboardInterrupt
        return real(self, frame, index)

    monkeypatch.setattr(Stylizer, "stylize", interrupt_at_8)
    out = tmp_path / "o.mp4"
    assert main(["stylize", str(clip), "--style", "alpha", "-o", str(out)]) == 130
    partial = tmp_path / "o.partial.mp4"
    assert not out.exists() and len(video_frames(partial)) == 8
    assert f"{partial} holds 8 frames" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".webm", ".mpg"])
def test_stylize_refuses_a_video_container_the_writers_cannot_fill(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture, suffix: str
) -> None:
    """Readable is not writable: H.264 goes into MP4/MOV/MKV (and the fallback into AVI), the
    same list the recorder checks, so the refusal comes before any frame is stylized."""
    clip = write_video(tmp_path / "clip.mp4", frames=3, size=SIZE)
    target = tmp_path / f"out{suffix}"
    assert main(["stylize", str(clip), "--style", "beta", "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".mp4" in err[0] and suffix not in err[0].split("one of")[1]
    assert not target.exists()
