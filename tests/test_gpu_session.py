"""benchmarks/gpu/gpu_session.py's packing: what comes back from a lent GPU must fit its limits
(at most 8 files, each at most 16 MiB). The whole script runs in CI as `--dry-run`."""

from __future__ import annotations

import importlib.util
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_script():
    path = REPO / "benchmarks" / "gpu" / "gpu_session.py"
    spec = importlib.util.spec_from_file_location("gpu_session", path)
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
    # The carried wheels installed for the session (17 MiB): never packed with the results.
    (work / "site" / "efficientnet").mkdir(parents=True)
    (work / "site" / "efficientnet" / "weights.pth").write_bytes(bytes(17 * 2**20))
    (work / "bench.json").write_text("{}")
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
    assert "bench.json" in members and not any(n.startswith("site") for n in members)
    # (runs/ may hold a checkout's own training folders, "paintings-standard" among them)
    assert not any(n.startswith("weights/") and "standard" in n for n in members)
    assert "leaving out" in (out / "session.log").read_text()


def test_gpu_budgets_fit_one_device_call_and_ignore_the_calibration() -> None:
    gs = load_script()
    limits = gs.budgets(dry_run=False, budget_s=530.0, slowness=5.0)
    assert limits == gs.budgets(dry_run=False, budget_s=530.0)  # a GPU's minutes are fixed
    # One device command runs at most 10 minutes: tests, bench and packing fit in the total.
    assert limits["total"] <= 600
    assert limits["tests"] + limits["bench"] + limits["pack"] + limits["grace"] < limits["total"]


def test_dry_run_budgets_grow_with_the_machines_slowness() -> None:
    gs = load_script()
    base = gs.budgets(dry_run=True, budget_s=530.0)
    slow = gs.budgets(dry_run=True, budget_s=530.0, slowness=3.0)
    assert base == gs.DRY_BUDGETS
    assert all(slow[name] == 3.0 * base[name] for name in base)
    # --budget-s still caps a dry run's total, which then scales like the stages.
    assert gs.budgets(dry_run=True, budget_s=100.0, slowness=2.0)["total"] == 200.0
    # Every dry stage, and the training time box with its grace, fits in the total.
    stages = base["tests"] + base["bench"] + gs.DRY_TRAIN_MINUTES * 60 + base["grace"]
    assert stages + base["pack"] <= base["total"]


def test_calibration_says_how_much_slower_this_machine_is(monkeypatch) -> None:
    gs = load_script()
    monkeypatch.setattr(gs, "CALIBRATION_REFERENCE_S", 0.01)
    assert gs.calibrate(lambda: None) == 1.0  # faster than the reference: never below 1
    # sleep() takes at least what it is asked: 3 times the reference or more.
    assert gs.calibrate(lambda: time.sleep(0.03), repeats=2) >= 3.0
    assert gs.calibrate(lambda: time.sleep(0.2), repeats=1) == gs.MAX_SLOWNESS


def test_a_dry_run_runs_its_processes_on_one_thread(tmp_path: Path) -> None:
    gs = load_script()
    assert gs.session_env(tmp_path, dry_run=True)["OMP_NUM_THREADS"] == "1"
    assert gs.session_env(tmp_path, dry_run=True)["LIVESTYLE_CUDA_DRY_RUN"] == "1"


def test_profile_layers_names_the_operators_a_forward_spends_its_time_in(capsys) -> None:
    path = REPO / "benchmarks" / "gpu" / "profile_layers.py"
    spec = importlib.util.spec_from_file_location("profile_layers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = ["--device", "cpu", "--size", "40x24", "--precisions", "fp32", "--runs", "2"]
    assert module.main([*args, "--variant", "lite"]) == 0
    printed = capsys.readouterr().out
    assert "### lite 40x24 fp32 on cpu: median" in printed
    # The lite network's 3x3 body convolution on 64 channels at a quarter of 40x24 (10x6,
    # padded in the convolution), with its input shape: where the time is, by layer.
    assert "convolution" in printed and "[1, 64, 6, 10]" in printed
