"""Signals end a live run cleanly: exit code 128 + number, the recording finalized."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from livestyle.commands.live import run_headless
from livestyle.live.pipeline import Pipeline
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

from .fakes import SIZE, start_live, wait_for, wait_for_line
from .media import video_frames, wait_until_recording


def test_sigterm_and_sigint_end_live_runs_with_their_codes_and_playable_files(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    # Both children at once: most of their time is importing torch.
    runs = {
        signum: (
            tmp_path / f"live-{signum}.mp4",
            *start_live(styles_env, tmp_path / f"live-{signum}.mp4"),
        )
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        for out, child, lines in runs.values():
            wait_for_line(lines, "recording to")
            wait_until_recording(out, child)  # frames in the file, however slow the CPU
        for signum, (out, child, lines) in runs.items():
            sent = time.monotonic()
            child.send_signal(signum)
            child.wait(timeout=20)
            stopped_in = time.monotonic() - sent
            stdout = child.stdout.read()  # type: ignore[union-attr]
            rest = []
            while (line := lines.get(timeout=5)) is not None:
                rest.append(line)
            assert child.returncode == 128 + signum, "".join(rest)
            # Threads stop within 2 s (checked in-process elsewhere); the rest is the exit of
            # a child on a loaded CPU. A stuck thread would show as 10 s (the recorder's join).
            assert stopped_in < 8.0, stopped_in
            assert stdout.startswith("captured ") and "recorded" in stdout, stdout
            assert "Traceback" not in "".join(rest)
            assert len(video_frames(out)) >= 1
    finally:
        for _out, child, _lines in runs.values():
            child.kill()


def test_sighup_in_process_also_finalizes(stylizer: Stylizer, tmp_path: Path) -> None:
    # max_frames: should the signal never come, the run ends (exit 0, a failure) in 20 s.
    pipeline = Pipeline(DemoSource(*SIZE, fps=30), stylizer, max_frames=600)
    out = tmp_path / "hup.mp4"
    timer = threading.Thread(
        target=lambda: (
            wait_for(lambda: bool(pipeline.recordings) and pipeline.recordings[0].frames_written),
            os.kill(os.getpid(), signal.SIGHUP),
        ),
        daemon=True,
    )
    timer.start()
    assert run_headless(pipeline, out) == 128 + signal.SIGHUP
    assert video_frames(out) and not any(t.is_alive() for t in pipeline.threads)
