"""The summary table of compare_refactor_speed.sh and cpu_network.sh: each measure's median
per tree (and the peer's, where measured) and the after/before ratio (above 1: after is
larger, slower for ms and seconds, faster for fps).

Run: python benchmarks/speed/speed_summary.py OUT_DIR  (what either script wrote)
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

TREES = ("before", "after", "peer")
# The headless summary line: "captured 300, stylized 300, dropped 0, 30.0 fps, inference
# 20.5 ms, latency p50 31.2 ms p95 40.1 ms".
LIVE_MEASURES = {
    "live headless: output fps": r"([\d.]+) fps",
    "live headless: inference ms": r"inference ([\d.]+) ms",
    "live headless: latency p50 ms": r"latency p50 ([\d.]+) ms",
}

Measures = dict[str, dict[str, list[float]]]  # measure -> tree -> values


# cpu_network.sh's stylize lines: "/usr/bin/time" of the whole process.
STYLIZE_MEASURES = {
    "stylize 60 frames: wall s": r"([\d.]+) s wall",
    "stylize 60 frames: CPU s": r"([\d.]+) s user, ([\d.]+) s system",
}


def line_measures(text: str, patterns: dict[str, str], found: Measures) -> None:
    """Lines "TREE [WxH | first-start | cached] ... round N: ..." (a frame size or the
    session cache's state, where given, goes into the name)."""
    for line in text.splitlines():
        which, _, rest = line.partition(" ")
        size = re.match(r"(\d+x\d+|first-start|cached) ", rest)
        for name, pattern in patterns.items():
            match = re.search(pattern, line)
            if which in TREES and match:
                value = sum(float(group) for group in match.groups())
                key = f"{name} ({size[1]})" if size else name
                found.setdefault(key, {}).setdefault(which, []).append(value)


def bench_measures(report: dict, which: str, found: Measures) -> None:
    def add(name: str, value: float) -> None:
        found.setdefault(name, {}).setdefault(which, []).append(value)

    for row in report["networks"]:
        # The note tells rows of one method apart (threads, spinning, the peer's settings).
        note = f" ({row['note']})" if row.get("note") else ""
        add(f"bench {row['frame']}: {row['method']} {row['precision']}{note}, ms", row["ms"])
    for row in report["infer_sizes"]:
        add(f"bench: network at {row['infer_size']}, ms", row["ms"])
    for row in report["pipeline"]:
        where = f"bench pipeline {row['frame']}, network {row['network_input']}"
        add(f"{where}: output fps", row["output_fps"])
        add(f"{where}: latency p50 ms", row["latency_p50"])


def table(found: Measures) -> str:
    peer = any("peer" in trees for trees in found.values())
    head = "| measure | before | after | after/before |" + (" peer |" if peer else "")
    lines = [head, "| --- | ---: | ---: | ---: |" + (" ---: |" if peer else "")]
    for name, trees in found.items():
        medians = [statistics.median(trees[t]) if t in trees else float("nan") for t in TREES]
        ratio = medians[1] / medians[0] if medians[0] else float("nan")
        row = f"| {name} | {medians[0]:.2f} | {medians[1]:.2f} | {ratio:.3f} |"
        lines.append(row + (f" {medians[2]:.2f} |" if peer else ""))
    return "\n".join(lines)


def main() -> None:
    out = Path(sys.argv[1])
    found: Measures = {}
    line_measures((out / "live.txt").read_text(), LIVE_MEASURES, found)
    if (out / "stylize.txt").is_file():
        line_measures((out / "stylize.txt").read_text(), STYLIZE_MEASURES, found)
    for which in TREES:
        bench = out / f"bench_{which}.json"
        if bench.is_file():
            bench_measures(json.loads(bench.read_text()), which, found)
    for header in ("trees.txt", "machine.txt"):
        if (out / header).is_file():
            print((out / header).read_text().rstrip())
    print()
    print(table(found))


if __name__ == "__main__":
    main()
