"""The lite network in ONNX Runtime with its weights as constants against as graph inputs
(1 thread): why the ONNX engine keeps weights constant (benchmarks/RESULTS.md, run E).

Run: python benchmarks/probes/onnx_weights_as_inputs.py
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

from livestyle.bench.timing import time_calls
from livestyle.engines.onnx import build_onnx, session_options
from livestyle.model import VARIANTS, TransformerNet


def weights_as_inputs(proto: onnx.ModelProto) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A copy whose parameter constants are graph inputs, and their values to feed."""
    moved = onnx.ModelProto()
    moved.CopyFrom(proto)
    graph = moved.graph
    feeds, keep = {}, []
    for init in graph.initializer:
        value = numpy_helper.to_array(init)
        if any(stem in init.name for stem in ("weight", "bias", "norm")):
            feeds[init.name] = value
            graph.input.append(
                helper.make_tensor_value_info(init.name, TensorProto.FLOAT, list(value.shape))
            )
        else:
            keep.append(init)
    del graph.initializer[:]
    graph.initializer.extend(keep)
    return moved, feeds


def session(proto: onnx.ModelProto) -> ort.InferenceSession:
    return ort.InferenceSession(
        proto.SerializeToString(), session_options(1), providers=["CPUExecutionProvider"]
    )


def main() -> None:
    torch.manual_seed(0)
    proto = build_onnx(TransformerNet(VARIANTS["lite"]).eval())
    moved, feeds = weights_as_inputs(proto)
    constants, inputs = session(proto), session(moved)
    for height, width in ((240, 320), (480, 640)):
        x = np.random.rand(1, 3, height, width).astype(np.float32)
        for _ in range(3):
            a = time_calls(lambda _, x=x: constants.run(None, {"image": x}), runs=5).mean_ms
            b = time_calls(lambda _, x=x: inputs.run(None, {"image": x, **feeds}), runs=5).mean_ms
            print(f"{width}x{height}: constants {a:.1f} ms, inputs {b:.1f} ms ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
