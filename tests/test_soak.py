"""benchmarks/faults/soak.py: its checks catch what they are for, and a short run passes.

CI runs the real 30-second soak from .ci/run; these keep the soak itself honest.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from livestyle.live.capture import CaptureThread
from livestyle.live.recorder import Recorder

SOAK_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "faults" / "soak.py"
# benchmarks/ is scripts, not a package: load soak.py by path (registered, for dataclasses).
spec = importlib.util.spec_from_file_location("livestyle_soak", SOAK_PATH)
assert spec is not None and spec.loader is not None
soak = sys.modules.setdefault("livestyle_soak", importlib.util.module_from_spec(spec))
spec.loader.exec_module(soak)


def samples(rss: list[float], step: float = 1.0) -> list:
    return [soak.Sample(i * step, mb, 4, 12, 0, 0, 0, 0, 0, 0, "a") for i, mb in enumerate(rss)]


def test_memory_check_ignores_warmup_and_flags_growth() -> None:
    flat = samples([100, 180, 200, 201, 203, 202, 204])
    assert soak.check_memory(flat, warmup_s=2, max_growth_mb=10) == []
    growing = samples([100, 200, 205, 210, 215, 220, 226])
    (problem,) = soak.check_memory(growing, warmup_s=1, max_growth_mb=20)
    assert "grew 26.0 MB" in problem
    assert soak.check_memory(samples([100, 100]), warmup_s=5, max_growth_mb=10)


def test_thread_check() -> None:
    assert soak.check_threads(1, 1, os_warm=12, os_after=9) == []
    assert "Python threads: 1 before the run, 2 after" in soak.check_threads(1, 2, 12, 9)[0]
    assert "OS threads" in soak.check_threads(1, 1, 12, 13)[0]


class NullWriter:
    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        pass

    def write(self, frame: np.ndarray, time: float) -> int:
        return 1

    def release(self) -> None:
        pass


def test_recording_check_compares_file_and_recorder(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path / "r.mp4", fps=10, writer_factory=NullWriter)
    recorder.start()
    for pts in (3.0, 3.1, 3.5, 3.9):  # a held picture is one frame: 4 frames over 0.9 s
        recorder.submit(np.zeros((6, 8, 3), np.uint8), pts)
    recorder.finish()
    assert recorder.frames_written == 4
    assert soak.check_recording(recorder, 4, 0.9) == []
    assert soak.check_recording(recorder, 4, 0.95) == []  # the mp4v fallback's fixed clock
    assert "file has 3 frames, recorder wrote 4" in soak.check_recording(recorder, 3, 0.9)[0]
    # A file that plays faster than the stream it recorded: frames at a fixed rate.
    assert "file spans 0.30 s, its frames 0.90 s" in soak.check_recording(recorder, 4, 0.3)[0]
    recorder.error = "recording to r.mp4 stopped: disk full"
    assert soak.check_recording(recorder, 4, 0.9) == [f"r.mp4: {recorder.error}"]


@pytest.mark.slow  # two real soaks of a few seconds each
def test_short_soak_passes_and_a_leaked_thread_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    argv = ["--duration", "5", "--interval", "1", "--segment", "2", "--swap-every", "1"]
    argv += ["--width", "64", "--height", "48", "--warmup", "2", "--out-dir", str(tmp_path)]
    assert soak.main(argv) == 0
    out = capsys.readouterr().out
    assert "soak: ok" in out and out.count("soak-0") >= 3  # three recordings, each checked
    assert len(list(tmp_path.glob("soak-*.mp4"))) >= 3

    # A capture thread that ignores stop() outlives the pipeline: the soak must say so.
    ignored: list[CaptureThread] = []
    monkeypatch.setattr(CaptureThread, "stop", lambda self: ignored.append(self))
    argv[1] = "3"
    try:
        assert soak.main([*argv, "--out-dir", str(tmp_path / "leak")]) == 1
    finally:
        for thread in ignored:
            thread._stop_event.set()
            thread.join(2)
    assert "Python threads" in capsys.readouterr().err
    assert not any(t.name == "livestyle-capture" for t in threading.enumerate())
