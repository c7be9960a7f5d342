"""The canvas grain (livestyle/grain.py) written into an ONNX graph: the field of the
input's size from the same wave table, appended as a 4th channel. A few small ops per frame
(two 1-D tables and one matrix product); int8 quantizes only the convolutions around them."""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from livestyle.grain import GRAIN_WAVE_TABLE, GRAIN_WAVES

TENSOR_FLOAT = 1  # onnx.TensorProto.FLOAT, without importing onnx at module load


class GraphWriter(Protocol):
    """What this needs of engines.onnx._GraphWriter (which imports this module)."""

    def constant(self, stem: str, value: np.ndarray) -> str: ...

    def node(
        self, op: str, inputs: list[str], output: str | None = None, **attrs: object
    ) -> str: ...


def grain_nodes(g: GraphWriter, x: str, std: float) -> str:
    """model.with_grain in the graph: the canvas grain of the input's size, made from its
    wave table (float32 here, float64 in torch: the fields differ by about 1e-4), appended
    as a 4th channel. A few small ops per frame; only the convolutions are quantized."""
    waves = GRAIN_WAVE_TABLE.numpy()
    shape = g.node("Shape", [x])
    zero, one = (
        g.constant("zero", np.array(0.0, np.float32)),
        g.constant("one", np.array(1.0, np.float32)),
    )

    def positions(axis: int) -> str:  # 0, 1, ... along the input's `axis`, float32
        side = g.node("Gather", [shape, g.constant("axis", np.array(axis, np.int64))])
        return g.node("Range", [zero, g.node("Cast", [side], to=TENSOR_FLOAT), one])

    def unsqueezed(value: str, axes: list[int]) -> str:
        return g.node("Unsqueeze", [value, g.constant("axes", np.array(axes, np.int64))])

    def table(stem: str, column: np.ndarray) -> str:
        return g.constant(stem, column.astype(np.float32))

    y = unsqueezed(positions(2), [1])  # (H, 1)
    x_row = unsqueezed(positions(3), [0])  # (1, W)
    along_y = g.node("Mul", [y, table("grain_fy", waves[None, :, 1])])  # (H, waves)
    along_x = g.node("Mul", [table("grain_fx", waves[:, 0:1]), x_row])  # (waves, W)
    along_x = g.node("Add", [along_x, table("grain_phase", waves[:, 2:3])])
    rows = g.node("Concat", [g.node("Cos", [along_y]), g.node("Sin", [along_y])], axis=1)
    cols = g.node("Concat", [g.node("Sin", [along_x]), g.node("Cos", [along_x])], axis=0)
    scale = g.constant("grain_std", np.array(std * math.sqrt(2 / GRAIN_WAVES), np.float32))
    field = g.node("Mul", [g.node("MatMul", [rows, cols]), scale])
    return g.node("Concat", [x, unsqueezed(field, [0, 1])], axis=1)
