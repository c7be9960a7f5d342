"""The one value that decides the network's input size: its shape rules, the live default,
each style's stroke scale, the out-of-memory shrink, and the Stylizer asking it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from livestyle.model import MIN_INPUT_SIDE
from livestyle.sizing import (
    CPU_LIVE_INFER_SIZE,
    GPU_LIVE_INFER_SIZE,
    MIN_OOM_SCALE,
    OOM_SHRINK,
    NetworkSize,
)
from livestyle.stylizer import Stylizer

from .test_fast_paths import styles


def test_a_long_side_fits_the_frame_and_never_scales_up() -> None:
    assert NetworkSize(320).shape(480, 640) == (240, 320)
    assert NetworkSize(320).shape(1080, 1920) == (180, 320)
    assert NetworkSize(320).shape(640, 480) == (320, 240)  # portrait: the long side is height
    assert NetworkSize(2000).shape(480, 640) == (480, 640)
    assert NetworkSize(320, scale=0.1).shape(480, 640) == (240, 320)  # a long side wins


def test_without_a_long_side_the_frame_is_scaled() -> None:
    assert NetworkSize().shape(47, 63) == (47, 63)
    assert NetworkSize(None, 0.5).shape(480, 640) == (240, 320)
    assert NetworkSize(None, 0.75).shape(40, 52) == (30, 39)


def test_no_side_falls_below_the_networks_smallest_input() -> None:
    assert NetworkSize(MIN_INPUT_SIDE).shape(100, 1000) == (MIN_INPUT_SIDE, MIN_INPUT_SIDE)
    assert NetworkSize(None, 0.001).shape(480, 640) == (MIN_INPUT_SIDE, MIN_INPUT_SIDE)


def test_the_live_default_is_per_device_and_divided_by_the_stroke_scale() -> None:
    cpu = NetworkSize.live_default("cpu")
    assert cpu == NetworkSize(CPU_LIVE_INFER_SIZE, 1.0, per_style_strokes=True)
    assert NetworkSize.live_default("cuda").long_side == GPU_LIVE_INFER_SIZE
    assert NetworkSize.live_default("mps").long_side == GPU_LIVE_INFER_SIZE
    assert NetworkSize.live_default("cpu", None).long_side == CPU_LIVE_INFER_SIZE
    assert NetworkSize.live_default("cpu", 2.0).long_side == CPU_LIVE_INFER_SIZE // 2
    assert NetworkSize.live_default("cpu", 1000.0).long_side == MIN_INPUT_SIDE


def test_each_styles_stroke_scale_divides_the_long_side_only_live() -> None:
    live, plain = NetworkSize(320, per_style_strokes=True), NetworkSize(320)
    assert live.shape(480, 640, 2.0) == (120, 160)
    assert plain.shape(480, 640, 2.0) == (240, 320)
    assert live.shape(480, 640, 1000.0) == (MIN_INPUT_SIDE, MIN_INPUT_SIDE)
    scaled = NetworkSize(None, 0.5, per_style_strokes=True)  # no long side: nothing to divide
    assert scaled.shape(480, 640, 2.0) == (240, 320)


def test_out_of_memory_shrinks_from_the_size_used() -> None:
    size = NetworkSize(320, per_style_strokes=True)
    smaller = size.shrunk((240, 320), (480, 640))
    assert smaller == NetworkSize(None, 0.5 * OOM_SHRINK, per_style_strokes=True)
    assert smaller.shape(480, 640) == (180, 240)
    full = NetworkSize().shrunk((480, 640), (480, 640))
    assert full is not None and full.scale == OOM_SHRINK
    tiny = round(480 * MIN_OOM_SCALE)
    assert NetworkSize().shrunk((tiny, round(640 * MIN_OOM_SCALE)), (480, 640)) is None


def test_the_size_is_frozen() -> None:
    with pytest.raises(AttributeError):
        NetworkSize().long_side = 3  # type: ignore[misc]


def two_style_stylizer() -> Stylizer:
    (net0, info0), (net1, info1) = styles(count=2)
    loaded = [(net0, info0), (net1, replace(info1, stroke_scale=2.0))]
    return Stylizer(loaded, "cpu", "fp32", backend="torch")


def test_the_stylizer_holds_one_size_and_asks_it() -> None:
    stylizer = two_style_stylizer()
    assert stylizer.network_size == NetworkSize() and stylizer.network_shape(48, 64) == (48, 64)
    stylizer.network_size = NetworkSize(32, per_style_strokes=True)
    assert stylizer.network_shape(48, 64) == (24, 32)
    stylizer.select(1)  # its own stroke scale of 2
    assert stylizer.network_shape(48, 64) == (12, 16)
    stylizer.network_size = NetworkSize(None, 0.5)  # swapped whole: no stroke scale left
    assert stylizer.network_shape(48, 64) == (24, 32)
