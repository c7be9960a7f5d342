"""Where the CPU's int8 network strays from float32 (benchmarks/RESULTS.md, rounds ten and
thirteen).

Per style: the worst PSNR of its int8 picture (every convolution in int8, as before round
thirteen, and as the engine makes it) against float32's on the check's noise pictures, with
the calibration the engine uses (every style of the body at once), so a retune that moves
one style's norm rows shows what it does to the others. Then the network's time at 320x240
in float32, in int8 as the engine makes it (the decoder's upsampling convolution in float32
since round thirteen), in int8 throughout, and in int8 with the last convolutions kept in
float32 as well (`--keep 1`: the output one), median of alternating runs. With `--flicker
CLIP`, also `livestyle eval-stability` on the clip with those convolutions kept float32 (the
live command of round nine, `--marks 0.5` unless `--marks` says otherwise), on the installed
styles: put the network to measure in livestyle/shipped_styles/ first. The weights get 7
bits where the CPU's int8 sums overflow, as in the engine (round eleven).

Run: python benchmarks/probes/int8_layers.py [NETWORK] [--keep 1] [--threads 2]
         [--flicker ../shared/clips/grid_bbaf2n.mpg --styles starry_night,udnie --marks 0]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from livestyle.bench.timing import measure_interleaved, no_sync
from livestyle.discovery import PACKAGE_WEIGHTS_DIR
from livestyle.engines import quantize
from livestyle.engines.onnx import INPUT_NAME, OnnxNet, graph_model, write_graph
from livestyle.model import style_views
from livestyle.weights import load_network

SHIPPED = PACKAGE_WEIGHTS_DIR / "paintings.lite.safetensors"


def keep_float(keep: list[int]) -> None:
    """From now on, quantize.quantized leaves the convolutions `keep` (counted from the
    last, 1 = the output convolution) in float32 as well as the grain's."""
    grain_only = quantize.grain_convolutions

    def kept(proto, input_name):  # noqa: ANN001, ANN202  # quantize's own signature
        convolutions = [node for node in proto.graph.node if node.op_type == "Conv"]
        return grain_only(proto, input_name) + [convolutions[-k] for k in keep]

    quantize.grain_convolutions = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("network", nargs="?", type=Path, default=SHIPPED)
    parser.add_argument("--keep", default="1", help="convolutions from the last, e.g. 2 or 1,2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--flicker", type=Path, help="a clip for eval-stability")
    parser.add_argument("--styles", default="starry_night,udnie,grande_jatte,adele")
    parser.add_argument("--marks", default="0.5", help="eval-stability's --marks")
    args = parser.parse_args()
    keep = [int(k) for k in args.keep.split(",") if k]

    model, infos = load_network(args.network)
    graphs = [write_graph(view.eval(), norm_inputs=True) for view in style_views(model)]
    feeds = [graph.feeds for graph in graphs]
    proto = graph_model(graphs[0])
    nets = {"float32": OnnxNet(proto, args.threads)}
    nets["int8 (the engine's)"] = OnnxNet(
        quantize.quantized(proto, feeds, INPUT_NAME), args.threads
    )
    engines_choice = quantize.upsampling_convolution
    quantize.upsampling_convolution = lambda proto: []  # type: ignore[assignment]
    nets["int8 throughout"] = OnnxNet(quantize.quantized(proto, feeds, INPUT_NAME), args.threads)

    print(
        "worst PSNR of each style's int8 picture against float32's (dB), "
        "int8 throughout / the engine's:"
    )
    for info, style in zip(infos, feeds, strict=True):
        inputs = list(quantize.calibration_feeds([style], quantize.check_frames(), INPUT_NAME))
        worst = [
            min(quantize.psnr_db(nets["float32"].run(x), nets[name].run(x)) for x in inputs)
            for name in ("int8 throughout", "int8 (the engine's)")
        ]
        print(f"  {info.name}: {worst[0]:.1f} / {worst[1]:.1f}")

    quantize.upsampling_convolution = engines_choice  # type: ignore[assignment]
    keep_float(keep)
    label = f"int8, convolution(s) {args.keep} from the last in float32"
    nets[label] = OnnxNet(quantize.quantized(proto, feeds, INPUT_NAME), args.threads)
    frame = np.random.default_rng(0).random((1, 3, 240, 320), dtype=np.float32)
    inputs = {INPUT_NAME: frame, **feeds[0]}

    def step(net: OnnxNet):  # noqa: ANN202
        return lambda: net.run(inputs) is not None  # one frame a call

    steps = {name: step(net) for name, net in nets.items()}
    times = measure_interleaved(steps, args.runs, warmup=10, sync=no_sync)
    base = float(np.median(times["float32"]))
    print(f"320x240, {args.threads} threads, median ms (x float32):")
    for name, seconds in times.items():
        median = float(np.median(seconds))
        print(f"  {name}: {median * 1000:.1f} ({base / median:.2f}x)")

    if args.flicker:
        from livestyle.cli import main as livestyle

        # Not the int8 models an earlier run kept (engines/session_cache.py): they keep no
        # convolution in float32.
        os.environ["LIVESTYLE_CACHE_DIR"] = tempfile.mkdtemp()
        styles = [part for name in args.styles.split(",") for part in ("--style", name)]
        livestyle(
            ["eval-stability", "--video", str(args.flicker), *styles, "--max-frames", "75",
             "--long-side", "360", "--variant", "lite", "--infer-size", "320",
             "--marks", args.marks]
        )  # fmt: skip


if __name__ == "__main__":
    main()
