"""Where the shipped lite network's time goes in ONNX Runtime, by operator type: float32
and int8 sessions profiled on one frame size (ONNX Runtime's own profiler).

    python benchmarks/probes/onnx_op_profile.py [--size 640x480] [--threads 2] [--runs 20]

Prints, per session, each operator type's share of the summed node time and its
milliseconds per frame.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.engines.onnx import INPUT_NAME, graph_model, session_options, write_graph
from livestyle.engines.quantize import quantized


def profile(proto, feeds: dict[str, np.ndarray], threads: int, runs: int) -> dict[str, float]:
    """Milliseconds per run of each operator type."""
    import onnxruntime as ort

    options = session_options(threads)
    options.enable_profiling = True
    with tempfile.TemporaryDirectory() as folder:
        options.profile_file_prefix = str(Path(folder) / "profile")
        session = ort.InferenceSession(
            proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        for _ in range(3 + runs):
            session.run(None, feeds)
        events = json.loads(Path(session.end_profiling()).read_text())
    per_op: dict[str, float] = defaultdict(float)
    node_runs = [e for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    # Skip the warm-up runs: the last `runs` share of every node's events.
    for event in node_runs[len(node_runs) * 3 // (3 + runs) :]:
        per_op[event["args"]["op_name"]] += event["dur"] / 1000.0 / runs
    return dict(per_op)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="lite"))
    graph = write_graph(styles[0][0], norm_inputs=True)
    proto = graph_model(graph)
    picture = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
    feeds = {INPUT_NAME: picture, **graph.feeds}
    sessions = {"float32": proto, "int8": quantized(proto, [graph.feeds], INPUT_NAME)}
    for name, model in sessions.items():
        times = profile(model, feeds, args.threads, args.runs)
        total = sum(times.values())
        print(f"{name}, {args.size}, {args.threads} threads: {total:.1f} ms of node time a frame")
        for op, ms in sorted(times.items(), key=lambda item: -item[1]):
            print(f"  {op:28s} {ms:7.2f} ms  {100 * ms / total:5.1f}%")


if __name__ == "__main__":
    main()
