"""Whether ONNX Runtime's NHWC layout pass pays for the shipped int8 lite network.

ONNX Runtime turns each int8 convolution into an NHWC one and puts layout transposes
around it; between two convolutions this network has float32 instance norms, which stay
NCHW, so the transposes never cancel (7 ms of an 80 ms frame at 640x480). This times the
same quantized model with the pass on (the default) and off, interleaved, at the full
640x480 frame on 2 threads (bench, stylize uses 1) and at the live 320x240 on 1 thread.

Run: python benchmarks/probes/nhwc_transformer.py [rounds]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.engines.onnx import INPUT_NAME, graph_model, session_options, write_graph
from livestyle.engines.quantize import quantized

SETTINGS = {
    "640x480, 2 threads": (480, 640, 2),
    "640x480, 1 thread": (480, 640, 1),
    "320x240, 1 thread": (240, 320, 1),
}
PASSES = {"NHWC pass on (default)": [], "NHWC pass off": ["NhwcTransformer"]}


def main() -> None:
    import onnxruntime as ort

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="lite"))
    graph = write_graph(styles[0][0], norm_inputs=True)
    model = quantized(graph_model(graph), [graph.feeds], INPUT_NAME).SerializeToString()
    for setting, (height, width, threads) in SETTINGS.items():
        picture = np.random.default_rng(0).random((1, 3, height, width), dtype=np.float32)
        feeds = {INPUT_NAME: picture, **graph.feeds}
        sessions = {
            name: ort.InferenceSession(model, session_options(threads), disabled_optimizers=off)
            for name, off in PASSES.items()
        }
        times: dict[str, list[float]] = {name: [] for name in sessions}
        for round_ in range(rounds + 2):
            for name, session in sessions.items():
                start = time.perf_counter()
                session.run(None, feeds)
                if round_ >= 2:  # two warm-up rounds
                    times[name].append(time.perf_counter() - start)
        base = statistics.median(times[next(iter(times))])
        for name, samples in times.items():
            ms = statistics.median(samples) * 1000
            print(f"{setting}: {name}: {ms:.1f} ms ({base * 1000 / ms:.2f}x)")


if __name__ == "__main__":
    main()
