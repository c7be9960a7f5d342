"""What the canvas grain costs a frame on the CPU: the lite network with and without the grain
input (livestyle/grain.py), in ONNX Runtime float32 and int8 as the live app runs it, at the
live CPU input (320x240) and at 640x480, interleaved round by round so load hits all alike.

Run: python benchmarks/probes/grain_cost.py [rounds] [threads]
"""

from __future__ import annotations

import statistics
import sys
from dataclasses import replace

import torch
from variant_speed import one_frame

from livestyle.bench.timing import Step, measure_interleaved
from livestyle.engines.onnx import INPUT_NAME, OnnxNet, build_onnx
from livestyle.engines.quantize import quantized
from livestyle.grain import GRAIN_STD
from livestyle.model import VARIANTS, TransformerNet

SIZES = ((240, 320), (480, 640))


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.manual_seed(0)
    configs = {"lite": VARIANTS["lite"], "lite + grain": replace(VARIANTS["lite"], grain=GRAIN_STD)}
    steps: dict[str, Step] = {}
    for name, config in configs.items():
        model = TransformerNet(config).eval()
        proto = build_onnx(model)
        for precision, graph in (("float32", proto), ("int8", quantized(proto, [], INPUT_NAME))):
            net = OnnxNet(graph, threads=threads)
            for height, width in SIZES:
                x = torch.rand(1, 3, height, width)
                steps[f"{name}|{precision}|{width}x{height}"] = one_frame(net, x)
    times = measure_interleaved(steps, runs=rounds, warmup=1, sync=lambda: None)
    ms = {key: statistics.median_high(samples) * 1000 for key, samples in times.items()}
    print(f"{threads} thread(s), median of {rounds} rounds")
    print("| precision | input | lite, ms | lite + grain, ms | grain / lite |")
    print("| --- | --- | ---: | ---: | ---: |")
    for precision in ("float32", "int8"):
        for height, width in SIZES:
            plain = ms[f"lite|{precision}|{width}x{height}"]
            grain = ms[f"lite + grain|{precision}|{width}x{height}"]
            row = f"| {precision} | {width}x{height} | {plain:.1f} | {grain:.1f} |"
            print(f"{row} {grain / plain:.2f} |")


if __name__ == "__main__":
    main()
