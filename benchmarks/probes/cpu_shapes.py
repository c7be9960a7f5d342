"""Milliseconds a frame of candidate CPU network shapes in ONNX Runtime (issue 24): random
weights, the graphs the app's converter writes, in float32 and with the convolutions in int8
(as the app quantizes them), every shape interleaved round by round so load hits them alike.
Two settings: the whole 640x480 frame on 2 threads (stylize, bench) and the live 320x240
input on 1 thread (the live app keeps a core for capture).

Run: python benchmarks/probes/cpu_shapes.py [rounds]
"""

from __future__ import annotations

import statistics
import sys

import torch
from torch import nn

from livestyle.bench.candidates import quantized_net
from livestyle.bench.timing import measure_interleaved
from livestyle.engines.onnx import OnnxNet
from livestyle.model import (
    VARIANTS,
    ConvLayer,
    DepthToSpace,
    NetConfig,
    ResidualBlock,
    SpaceToDepth,
    TransformerNet,
    UpsampleConv,
    parameter_count,
)


class Shape(nn.Module):
    """A candidate: stem, residual body, output side (what the ONNX converter walks)."""

    def __init__(self, down: list[nn.Module], body: int, width: int, up: list[nn.Module]):
        super().__init__()
        self.down = nn.Sequential(*down)
        self.res = nn.Sequential(*(ResidualBlock(width) for _ in range(body)))
        self.up = nn.Sequential(*up)


def unshuffle4(body: int, width: int) -> Shape:
    """The issue's first probe: 4x4 blocks to channels, all work at quarter resolution."""
    return Shape(
        [SpaceToDepth(4), ConvLayer(48, width, 3)],
        body,
        width,
        [ConvLayer(width, 48, 3, norm=False, relu=False), DepthToSpace(4)],
    )


def unshuffle2(body: int, width: int, half: int = 32, finish: bool = False) -> Shape:
    """2x2 blocks to channels, a half-resolution layer, a strided step to quarter; out: a
    nearest-neighbour + convolution step back to half, then pixel shuffle by 2 (each output
    pixel still sees a 3x3 half-resolution neighbourhood); optionally a full-resolution 3x3."""
    up: list[nn.Module] = [
        UpsampleConv(width, half),
        ConvLayer(half, 12, 3, norm=False, relu=False),
        DepthToSpace(2),
    ]
    if finish:
        up.append(ConvLayer(3, 3, 3, norm=False, relu=False))
    return Shape(
        [SpaceToDepth(2), ConvLayer(12, half, 3), ConvLayer(half, width, 3, stride=2)],
        body,
        width,
        up,
    )


FORMER = NetConfig((16, 32, 64), 3)
CANDIDATES = {
    "former lite: 16/32/64, 3 blocks, 9x9 at full resolution": lambda: TransformerNet(FORMER),
    "lite now: unshuffle 2 + stride 2, 64 x 5": lambda: TransformerNet(VARIANTS["lite"]),
    "unshuffle 4, 64 x 5 blocks": lambda: unshuffle4(5, 64),
    "unshuffle 2 + stride 2, 64 x 5, full-res 3x3 finish": lambda: unshuffle2(5, 64, finish=True),
    "unshuffle 2 + stride 2, 64 x 4": lambda: unshuffle2(4, 64),
    "unshuffle 2 + stride 2, 64 x 3": lambda: unshuffle2(3, 64),
    "unshuffle 2 + stride 2, 96 x 4": lambda: unshuffle2(4, 96),
    "unshuffle 2 + stride 2, 48 x 5, half 24": lambda: unshuffle2(5, 48, half=24),
}


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    torch.manual_seed(0)
    models = {name: make().eval() for name, make in CANDIDATES.items()}
    settings = {"640x480, 2 threads": (480, 640, 2), "320x240, 1 thread": (240, 320, 1)}
    int8 = {name: quantized_net(model) for name, model in models.items()}
    results: dict[str, dict[str, float]] = {name: {} for name in models}
    for setting, (height, width, threads) in settings.items():
        x = torch.rand(1, 3, height, width)
        nets = {}
        for name, model in models.items():
            nets[f"{name}|fp32"] = OnnxNet(model, threads=threads)
            nets[f"{name}|int8"] = OnnxNet(int8[name], threads=threads)
        steps = {key: (lambda net=net, x=x: (net(x), 1)[1]) for key, net in nets.items()}
        times = measure_interleaved(steps, runs=rounds, warmup=2, sync=lambda: None, pause=0.05)
        for key, samples in times.items():
            name, precision = key.split("|")
            results[name][f"{setting}, {precision}"] = statistics.median(samples) * 1000
    columns = list(next(iter(results.values())))
    base = results[next(iter(results))]
    print("ms a frame, median; (x): the former lite network's float32 time over this one's")
    print("| shape | " + " | ".join(columns) + " | parameters |")
    print("| --- |" + " ---: |" * (len(columns) + 1))
    for name, row in results.items():
        cells = " | ".join(
            f"{row[c]:.1f} ({base[c.rsplit(', ', 1)[0] + ', fp32'] / row[c]:.2f}x)" for c in columns
        )
        print(f"| {name} | {cells} | {parameter_count(models[name]):,} |")


if __name__ == "__main__":
    main()
