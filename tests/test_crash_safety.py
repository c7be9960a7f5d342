"""What a recording keeps when the process dies: SIGKILL, SIGTERM, and a disk that fills up
while it writes (a file size limit, RLIMIT_FSIZE, makes the kernel refuse the writes as a
full disk does). Each run is a real `livestyle` process writing a real file; the file must
then play: decoded by FFmpeg (OpenCV and PyAV), and whole fragments only (see mp4.py)."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from livestyle.video.mp4 import (
    boxes,
    faststart_copy,
    frames_and_seconds,
    is_fragmented,
    trim_to_fragments,
    whole_fragments_end,
)
from livestyle.video.output import VideoOutput, recover
from livestyle.video.writer import PyAVWriter

from .fakes import wait_for
from .media import video_frames, write_video

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and limits")


def livestyle(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "livestyle", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def file_size_limit(limit: int):
    """preexec_fn: writes past `limit` bytes fail with EFBIG, as a full disk's fail with
    ENOSPC (SIGXFSZ, which would kill the process instead, is ignored)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def grown_to(path: Path, size: int) -> bool:
    return path.exists() and path.stat().st_size >= size


def assert_plays(path: Path) -> int:
    """Every frame decodes (OpenCV and PyAV agree) and only whole fragments are left."""
    frames, _seconds = frames_and_seconds(path)
    assert frames > 0 and len(video_frames(path)) == frames
    assert whole_fragments_end(path) == path.stat().st_size
    return frames


def test_sigkill_while_recording_live_keeps_all_but_the_last_second_or_two(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    """Killed with no chance to finish: the partial file plays up to its last whole
    fragment, and the next start of the app finishes it under the recording's own name."""
    take = tmp_path / "livestyle-20990101-000000.mp4"  # as R names them in --out-dir
    partial = tmp_path / "livestyle-20990101-000000.partial.mp4"
    args = ["live", "--headless", "--source", "demo", "--width", "160", "--height", "120"]
    proc = livestyle([*args, "--record", str(take)], styles_env)
    try:
        wait_for(partial.exists, timeout=60, what="the recording to start")
        started = time.monotonic()
        time.sleep(4.0)
        recorded = time.monotonic() - started
        proc.kill()  # SIGKILL: no handler runs, nothing is finalized
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert not take.exists()  # the finished file's name is never half a file
    frames, seconds = frames_and_seconds(partial)
    assert frames == len(video_frames(partial)) > 0
    # Fragments are one second; the rest is the pipeline's latency (a slow machine's too).
    assert seconds >= recorded - 3.0, (seconds, recorded)

    again = livestyle([*args, "--max-frames", "3", "--out-dir", str(tmp_path)], styles_env)
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert f"recovered an interrupted recording: {take} holds {frames} frames" in err
    assert not partial.exists() and not is_fragmented(take)  # index first: browsers seek it
    assert assert_plays(take) == frames


def test_a_partial_file_being_written_is_never_recovered(tmp_path: Path) -> None:
    """Two windows recording into one folder: the second start must not take the first's
    file from under it."""
    output = VideoOutput(tmp_path / "livestyle-1.mp4", 30.0, (64, 48))
    rng = np.random.default_rng(3)
    for i in range(40):
        output.write(rng.integers(0, 256, (48, 64, 3), np.uint8), i / 30)
    assert recover(tmp_path, "livestyle-*.partial*.mp4") == []
    assert output.partial.exists()
    saved = output.finish()
    assert saved.path == tmp_path / "livestyle-1.mp4" and saved.frames == 40


def test_sigkill_during_stylize_keeps_the_frames_made(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=3000, fps=30.0)
    out = tmp_path / "out.mp4"
    proc = livestyle(["stylize", str(clip), "--style", "alpha", "-o", str(out)], styles_env)
    partial = tmp_path / "out.partial.mp4"
    try:
        # Some fragments written (each a second, 30 frames), then killed mid-video.
        wait_for(lambda: frames_and_seconds(partial)[0] >= 60, timeout=120, what="fragments")
        proc.kill()
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    assert not out.exists()
    trim_to_fragments(partial)  # what a later run does before it shows the file
    assert assert_plays(partial) >= 60


def test_sigterm_ends_stylize_like_ctrl_c(styles_env: dict[str, str], tmp_path: Path) -> None:
    """`kill` or a shutdown: the frames made so far are closed into a playable file under
    the partial name, the message says where and how many, and the exit code is 143."""
    clip = write_video(tmp_path / "clip.mp4", frames=3000, fps=30.0)
    out = tmp_path / "out.mp4"
    proc = livestyle(["stylize", str(clip), "--style", "alpha", "-o", str(out)], styles_env)
    partial = tmp_path / "out.partial.mp4"
    try:
        wait_for(lambda: grown_to(partial, 2000), timeout=120, what="the output to grow")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert not out.exists()
    frames = assert_plays(partial)
    assert f"{partial} holds {frames} frames" in err
    assert "Traceback" not in err


def test_live_recording_on_a_full_disk_keeps_what_is_written_and_the_view_goes_on(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    live = ["live", "--headless", "--source", "demo-scene", "--width", "320", "--height", "240"]
    live += ["--max-frames", "300", "--record"]
    # The disk fills halfway through: how many bytes a second of video takes depends on the
    # machine (a fast one runs the network larger, and its pictures cost the encoder more).
    whole = tmp_path / "whole.mp4"
    done = livestyle([*live, str(whole)], styles_env)
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    take = tmp_path / "take.mp4"
    limit = whole.stat().st_size // 2
    proc = livestyle([*live, str(take)], styles_env, preexec_fn=file_size_limit(limit))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert lines[-1].startswith(f"livestyle: error: recording to {take} stopped: File too large;")
    # What is left plays, and the message says how much of it there is.
    kept = take if take.exists() else tmp_path / "take.partial.mp4"
    frames = assert_plays(kept)
    assert f"{kept} holds {frames} frames" in lines[-1]
    assert "captured 300" in out  # the live view went on after the recording failed


def test_stylize_on_a_full_disk_is_one_line_and_keeps_the_frames_written(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    clip = tmp_path / "noise.avi"  # noise: every frame costs the encoder many bytes
    import cv2

    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    for _ in range(150):
        writer.write(rng.integers(0, 256, (120, 160, 3), np.uint8))
    writer.release()
    out = tmp_path / "out.mp4"
    args = ["stylize", str(clip), "--style", "alpha", "-o", str(out), "--no-steady"]
    proc = livestyle(args, styles_env, preexec_fn=file_size_limit(400_000))
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 2, err
    errors = [line for line in err.splitlines() if line.startswith("livestyle:")]
    assert "Traceback" not in err and len(errors) == 1, err
    partial = tmp_path / "out.partial.mp4"
    frames = assert_plays(partial)
    assert errors[0].startswith(f"livestyle: error: cannot write {out}: File too large;")
    assert f"{partial} holds {frames} frames" in errors[0]
    assert not out.exists()


# --- the MP4 helpers themselves ---
def fragmented_file(path: Path, frames: int = 75, fps: float = 30.0) -> Path:
    writer = PyAVWriter(path, fps, (64, 48))
    rng = np.random.default_rng(2)
    for i in range(frames):
        writer.write(rng.integers(0, 256, (48, 64, 3), np.uint8), i / fps)
    writer.release()
    return path


def test_the_writer_makes_fragmented_mp4_and_faststart_copy_an_ordinary_one(
    tmp_path: Path,
) -> None:
    written = fragmented_file(tmp_path / "f.mp4")
    assert is_fragmented(written)
    plain = tmp_path / "plain.mp4"
    faststart_copy(written, plain)
    kinds = [kind for kind, _start, _stop in boxes(plain)]
    assert not is_fragmented(plain) and kinds.index(b"moov") < kinds.index(b"mdat")
    assert frames_and_seconds(plain) == frames_and_seconds(written)
    assert frames_and_seconds(plain)[0] == 75


@pytest.mark.parametrize("where", ["frames", "index", "header"])
def test_a_torn_fragment_is_cut_and_the_rest_plays(tmp_path: Path, where: str) -> None:
    """A crash in the middle of writing the last fragment's frames (mdat), its index (moof)
    or the first bytes of a box: the torn fragment goes, every whole one before it plays."""
    path = fragmented_file(tmp_path / "f.mp4")
    last = {kind: (start, stop) for kind, start, stop in boxes(path)}
    start, stop = last[b"mdat" if where == "frames" else b"moof"]
    cut = {"frames": (start + stop) // 2, "index": (start + stop) // 2, "header": start + 4}
    path.write_bytes(path.read_bytes()[: cut[where]])
    assert whole_fragments_end(path) < path.stat().st_size
    assert trim_to_fragments(path) > 0
    assert 0 < assert_plays(path) < 75
