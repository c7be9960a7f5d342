"""The summary table of compare_refactor_speed.sh: each measure's median per tree and the
after/before ratio (above 1: after is larger, slower for ms, faster for fps).

Run: python benchmarks/speed/speed_summary.py OUT_DIR  (what compare_refactor_speed.sh wrote)
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

TREES = ("before", "after")
# The headless summary line: "captured 300, stylized 300, dropped 0, 30.0 fps, inference
# 20.5 ms, latency p50 31.2 ms p95 40.1 ms".
LIVE_MEASURES = {
    "live headless: output fps": r"([\d.]+) fps",
    "live headless: inference ms": r"inference ([\d.]+) ms",
    "live headless: latency p50 ms": r"latency p50 ([\d.]+) ms",
}

Measures = dict[str, dict[str, list[float]]]  # measure -> tree -> values


def live_measures(text: str, found: Measures) -> None:
    for line in text.splitlines():
        which = line.split(" ", 1)[0]
        for name, pattern in LIVE_MEASURES.items():
            match = re.search(pattern, line)
            if which in TREES and match:
                found.setdefault(name, {}).setdefault(which, []).append(float(match[1]))


def bench_measures(report: dict, which: str, found: Measures) -> None:
    def add(name: str, value: float) -> None:
        found.setdefault(name, {}).setdefault(which, []).append(value)

    for row in report["networks"]:
        add(f"bench {row['frame']}: {row['method']} {row['precision']}, ms", row["ms"])
    for row in report["infer_sizes"]:
        add(f"bench: network at {row['infer_size']}, ms", row["ms"])
    for row in report["pipeline"]:
        where = f"bench pipeline {row['frame']}, network {row['network_input']}"
        add(f"{where}: output fps", row["output_fps"])
        add(f"{where}: latency p50 ms", row["latency_p50"])


def table(found: Measures) -> str:
    lines = ["| measure | before | after | after/before |", "| --- | ---: | ---: | ---: |"]
    for name, trees in found.items():
        medians = [statistics.median(trees[t]) if t in trees else float("nan") for t in TREES]
        ratio = medians[1] / medians[0] if medians[0] else float("nan")
        lines.append(f"| {name} | {medians[0]:.2f} | {medians[1]:.2f} | {ratio:.3f} |")
    return "\n".join(lines)


def main() -> None:
    out = Path(sys.argv[1])
    found: Measures = {}
    live_measures((out / "live.txt").read_text(), found)
    for which in TREES:
        bench = out / f"bench_{which}.json"
        if bench.is_file():
            bench_measures(json.loads(bench.read_text()), which, found)
    print((out / "trees.txt").read_text().rstrip())
    print()
    print(table(found))


if __name__ == "__main__":
    main()
