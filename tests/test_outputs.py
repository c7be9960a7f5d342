"""Output files: never over an input, never over an existing file unless asked, and under
their own name only when complete (livestyle.core.outputs), for `stylize` and the live window."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livestyle.cli import main
from livestyle.core.errors import OutputError
from livestyle.core.outputs import check_output, new_file_in, publish, written_aside
from livestyle.model import VARIANTS, TransformerNet
from livestyle.weights import StyleInfo, save_style

from .media import video_frames, write_video


def one_line_error(capsys: pytest.CaptureFixture, *parts: str) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("livestyle: error:"), err
    assert all(part in err[0] for part in parts), err[0]
    return err[0]


def photo(path: Path, value: int = 90) -> Path:
    image = np.full((24, 32, 3), value, np.uint8)
    image[::4] = 200
    cv2.imwrite(str(path), image)
    return path


@pytest.mark.parametrize("link", ["same path", "hard link", "symlink"])
def test_stylize_refuses_to_write_over_its_own_video(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture, link: str
) -> None:
    """The tester's `stylize clip.mp4 -o clip.mp4` turned 240 frames into 44: the input is
    never an output, however it is named, and not even --overwrite makes it one."""
    clip = write_video(tmp_path / "clip.mp4", frames=12, fps=10.0)
    before = clip.read_bytes()
    target = {
        "same path": clip,
        "hard link": tmp_path / "hard.mp4",
        "symlink": tmp_path / "soft.mp4",
    }[link]
    if link == "hard link":
        os.link(clip, target)
    elif link == "symlink":
        target.symlink_to(clip)
    args = ["stylize", str(clip), "--style", "alpha", "-o", str(target), "--overwrite"]
    assert main(args) == 2
    one_line_error(capsys, "it is the input", str(clip))
    assert clip.read_bytes() == before
    assert len(video_frames(clip)) == 12


def test_stylize_refuses_to_write_an_image_over_itself(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    image = photo(tmp_path / "photo.png")
    before = image.read_bytes()
    assert main(["stylize", str(image), "--style", "alpha", "-o", str(image)]) == 2
    one_line_error(capsys, "it is the input")
    assert image.read_bytes() == before


def test_an_existing_output_is_kept_unless_overwrite_is_given(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    image = photo(tmp_path / "photo.png")
    out = tmp_path / "out.png"
    out.write_bytes(b"the user's own file")
    assert main(["stylize", str(image), "--style", "alpha", "-o", str(out)]) == 2
    one_line_error(capsys, f"{out} exists", "--overwrite")
    assert out.read_bytes() == b"the user's own file"
    assert main(["stylize", str(image), "--style", "alpha", "-o", str(out), "--overwrite"]) == 0
    assert cv2.imread(str(out)).shape == (24, 32, 3)
    assert not list(tmp_path.glob("*.partial*"))


def test_an_existing_output_in_a_folder_stops_before_any_work(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Several inputs: every output is checked before the first is made."""
    first, second = photo(tmp_path / "a.png"), photo(tmp_path / "b.png", 40)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b-alpha.png").write_bytes(b"kept")
    assert main(["stylize", str(first), str(second), "--style", "alpha", "-o", str(out)]) == 2
    one_line_error(capsys, "b-alpha.png exists")
    assert sorted(p.name for p in out.iterdir()) == ["b-alpha.png"]


def test_two_inputs_that_would_share_an_output_are_refused(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=3)
    other = write_video(tmp_path / "clip.avi", frames=3)
    out = tmp_path / "out"
    assert main(["stylize", str(clip), str(other), "--style", "alpha", "-o", str(out)]) == 2
    one_line_error(capsys, "would both be written to", "clip-alpha.mp4")


def test_live_record_keeps_an_existing_file_unless_overwrite(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    take = tmp_path / "take.mp4"
    take.write_bytes(b"yesterday's recording")
    live = ["live", "--headless", "--source", "demo", "--max-frames", "5", "--record", str(take)]
    assert main(live) == 2
    one_line_error(capsys, f"{take} exists", "--overwrite")
    assert take.read_bytes() == b"yesterday's recording"
    assert main([*live, "--overwrite"]) == 0
    assert len(video_frames(take)) >= 1


def test_live_never_records_over_the_video_it_plays(
    styles_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=6)
    before = clip.read_bytes()
    args = ["live", "--headless", "--source", str(clip), "--record", str(clip), "--overwrite"]
    assert main(args) == 2
    one_line_error(capsys, "it is the input")
    assert clip.read_bytes() == before


def test_check_output_refuses_a_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="it is a folder"):
        check_output(tmp_path, overwrite=True)


def test_written_aside_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "result.txt"
    with pytest.raises(RuntimeError), written_aside(target) as aside:
        aside.partial.write_text("half")
        assert aside.partial.name == "result.partial.txt" and not target.exists()
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []  # neither the target nor the partial file
    with written_aside(target) as aside:
        aside.partial.write_text("whole")
    assert aside.path == target and target.read_text() == "whole"
    assert list(tmp_path.iterdir()) == [target]


def test_publish_never_replaces_a_file_that_appeared_meanwhile(tmp_path: Path) -> None:
    """Two recordings started in one second, or a file made by another program while this
    one was written: both are kept."""
    target = tmp_path / "take.mp4"
    with written_aside(target) as aside:
        aside.partial.write_text("ours")
        target.write_text("theirs")  # another program, while we write
    assert target.read_text() == "theirs"
    assert aside.path == tmp_path / "take-1.mp4" and aside.path.read_text() == "ours"


def test_publish_with_overwrite_replaces(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    partial = tmp_path / "t.partial.txt"
    partial.write_text("new")
    assert publish(partial, target, overwrite=True) == target
    assert target.read_text() == "new" and not partial.exists()


def test_two_partial_files_for_one_target_never_collide(tmp_path: Path) -> None:
    target = tmp_path / "x.mp4"
    with written_aside(target) as first, written_aside(target) as second:
        assert first.partial != second.partial
        first.partial.write_text("1")
        second.partial.write_text("2")
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["1", "2"]


def test_new_file_in_counts_past_existing_names(tmp_path: Path) -> None:
    first = new_file_in(tmp_path, "snap.png")
    first.write_bytes(b"")
    second = new_file_in(tmp_path, "snap.png")
    assert (first.name, second.name) == ("snap.png", "snap-1.png")


def test_a_style_name_from_a_file_never_leads_out_of_the_output_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """A crafted style file names its style 'x/../../../evil': the output still lands in -o
    (with a folder out/photo-x there, the name as it was led to a/evil.png)."""
    styles = tmp_path / "styles"
    styles.mkdir()
    torch.manual_seed(0)
    net = TransformerNet(VARIANTS["lite"])
    crafted = StyleInfo("x/../../../evil", net.config)
    save_style(styles / "crafted.lite.safetensors", net, crafted)
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(styles))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    work = tmp_path / "a" / "b"
    (work / "out" / "photo-x").mkdir(parents=True)
    image = photo(work / "photo.png")
    assert main(["stylize", str(image), "--style", crafted.name, "-o", f"{work / 'out'}/"]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.parent != styles]
    assert sorted(p.relative_to(work) for p in written) == [
        Path("out/photo-x_.._.._.._evil.png"),
        Path("photo.png"),
    ]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_saved_style_is_readable_like_any_new_file(tmp_path: Path, monkeypatch) -> None:
    """safetensors writes its files 0o600: a style trained for a shared folder (or another
    account of the user's) must get a new file's usual mode, and a replaced file keeps its."""
    monkeypatch.setattr("livestyle.core.outputs._UMASK", 0o022)  # the usual umask
    net = TransformerNet(VARIANTS["lite"])
    fresh = save_style(tmp_path / "fresh.lite.safetensors", net, StyleInfo("fresh", net.config))
    assert fresh.stat().st_mode & 0o777 == 0o644
    kept = tmp_path / "kept.lite.safetensors"
    save_style(kept, net, StyleInfo("kept", net.config))
    kept.chmod(0o640)
    save_style(kept, net, StyleInfo("kept", net.config))
    assert kept.stat().st_mode & 0o777 == 0o640
