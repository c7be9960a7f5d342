"""benchmarks/gpu_session.py's packing: what comes back from a lent GPU must fit its limits
(at most 8 files, each at most 16 MiB). The whole script runs in CI as `--dry-run`."""

from __future__ import annotations

import importlib.util
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_session", REPO / "benchmarks/gpu_session.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["gpu_session"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_weights_are_packed_into_few_archives_under_the_size_limit(tmp_path: Path) -> None:
    gs = load_script()
    work, out = tmp_path / "work", tmp_path / "out"
    (work / "weights").mkdir(parents=True)
    out.mkdir()
    for i in range(30):  # more standard networks than 6 archives can hold
        (work / "weights" / f"s{i:02d}.standard.safetensors").write_bytes(bytes(7 * 2**20))
    (work / "weights" / "small.lite.safetensors").write_bytes(bytes(200_000))
    session = gs.Session(out, work, True, time.monotonic() + 60, {})
    archives = gs.pack_weights(session)
    gs.pack_results(session)
    files = list(out.iterdir())
    assert len(files) <= gs.MAX_FILES_BACK
    assert all(path.stat().st_size <= 16 * 2**20 for path in files)
    names = []
    for path in archives:
        with tarfile.open(path) as tar:
            names += tar.getnames()
    assert len(names) == 2 * len(archives) == 12  # two 7 MiB networks per 15 MiB archive
    with tarfile.open(out / "results.tar.gz") as results:
        members = results.getnames()
    assert "weights/small.lite.safetensors" in members  # small ones ride with the results
    # (runs/ may hold a checkout's own training folders, "paintings-standard" among them)
    assert not any(n.startswith("weights/") and "standard" in n for n in members)
    assert "leaving out" in (out / "session.log").read_text()
