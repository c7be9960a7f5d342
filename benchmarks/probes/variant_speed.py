"""Milliseconds a frame of candidate network shapes on the CPU, as the live app runs them:
random weights, ONNX Runtime float32, one thread, a 320x240 input (the live CPU setting),
all shapes interleaved round by round so load hits them alike (issue #13: a wider CPU network).

Run: python benchmarks/probes/variant_speed.py [rounds]
"""

from __future__ import annotations

import statistics
import sys

import torch

from livestyle.bench.timing import Step, measure_interleaved
from livestyle.engines.onnx import OnnxNet
from livestyle.model import NetConfig, TransformerNet, parameter_count

SHAPES = {
    "8/16/32, 4 blocks (lite until 2026-11-28)": NetConfig((8, 16, 32), 4),
    "12/24/48, 4 blocks": NetConfig((12, 24, 48), 4),
    "16/32/64, 3 blocks (lite)": NetConfig((16, 32, 64), 3),
    "16/32/64, 4 blocks": NetConfig((16, 32, 64), 4),
    "32/64/128, 5 blocks (standard)": NetConfig((32, 64, 128), 5),
}


def one_frame(net: OnnxNet, x: torch.Tensor) -> Step:
    def step() -> int:
        net(x)
        return 1

    return step


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    torch.manual_seed(0)
    x = torch.rand(1, 3, 240, 320)
    models = {name: TransformerNet(config).eval() for name, config in SHAPES.items()}
    nets = {name: OnnxNet(model, threads=1) for name, model in models.items()}
    steps = {name: one_frame(net, x) for name, net in nets.items()}
    # Warmed once each, then one frame of each shape per round.
    times = measure_interleaved(steps, runs=rounds, warmup=1, sync=lambda: None)
    print("| widths, residual blocks | ms a frame (median) | parameters |")
    print("| --- | ---: | ---: |")
    for name, samples in times.items():
        median = statistics.median_high(samples) * 1000
        print(f"| {name} | {median:.1f} | {parameter_count(models[name]):,} |")


if __name__ == "__main__":
    main()
