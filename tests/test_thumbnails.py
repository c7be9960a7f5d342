"""The style strip's thumbnails, without a window: size, round robin, when they are made, and
that making them leaves the main picture exactly as it was (every engine, mid cross-fade).

The window side (G, drawing, clicks) is in test_strip.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from livestyle.discovery import load_styles, scan_styles
from livestyle.engines import onnx as onnx_engine
from livestyle.engines.frames import torch_threads
from livestyle.live.pipeline import Pipeline
from livestyle.live.thumbnails import MAX_SKIPS, THUMB_WIDTH, Thumbnail, ThumbnailRound, shrink
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

from .media import write_network, write_styles

WAIT_S = 30.0  # a deadline for a condition: generous, a busy CPU is slow


def image(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny frames: a second thread only waits for a core the rest of the suite keeps busy."""
    with torch_threads(1):
        yield


def test_shrink_keeps_the_aspect_and_never_enlarges() -> None:
    assert shrink(image(480, 640)).shape == (96, THUMB_WIDTH, 3)
    assert shrink(image(720, 1280)).shape == (72, THUMB_WIDTH, 3)
    small = image(48, 64)
    assert shrink(small) is small


def test_thumbnails_go_round_every_style_one_per_call(stylizer: Stylizer) -> None:
    frame = image(96, 160, 1)
    thumbnails = ThumbnailRound(width=80)
    thumbnails.show(True)
    count = len(stylizer.styles)
    made = [thumbnails.make(stylizer, frame, i) for i in range(2 * count + 1)]
    assert [t.index for t in made] == [*range(count), *range(count), 0]
    assert [t.style for t in made[:count]] == [s.info.name for s in stylizer.styles]
    for thumbnail in made[:count]:
        assert thumbnail.image.shape == (48, 80, 3)  # computed at thumbnail size
        expected = stylizer.stylize(shrink(frame, 80), index=thumbnail.index).image
        np.testing.assert_array_equal(thumbnail.image, expected)  # really that style
    assert thumbnails.made == len(made) == len(thumbnails.ms)


def test_showing_again_starts_from_the_first_style(stylizer: Stylizer) -> None:
    thumbnails = ThumbnailRound(width=32)
    thumbnails.show(True)
    frame = image(24, 32)
    assert [thumbnails.make(stylizer, frame, 0).index for _ in range(2)] == [0, 1]
    thumbnails.show(True)  # already on: the round goes on
    assert thumbnails.make(stylizer, frame, 0).index == 2
    thumbnails.show(False)
    thumbnails.show(True)
    assert thumbnails.make(stylizer, frame, 0).index == 0


def test_a_thumbnail_is_due_in_spare_time_or_after_max_skips() -> None:
    thumbnails = ThumbnailRound()
    assert not thumbnails.due(frame_waiting=False)  # hidden: never
    thumbnails.show(True)
    assert all(thumbnails.due(frame_waiting=False) for _ in range(5))  # spare time: each frame
    # Inference cannot keep up (a frame always waits): one frame in MAX_SKIPS + 1.
    busy = [thumbnails.due(frame_waiting=True) for _ in range(3 * (MAX_SKIPS + 1))]
    assert busy == ([False] * MAX_SKIPS + [True]) * 3
    assert thumbnails.skipped == 3 * MAX_SKIPS


class Clock:
    """A clock that stands still: the cross-fade stays at the same point."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def network_styles(tmp_path: Path):
    """Three styles of one multi-style network (they cross-fade) and one of its own body."""
    folder = write_styles(tmp_path / "styles", names=("alpha",))
    write_network(folder / "net.lite.safetensors")
    return load_styles(scan_styles([folder], prefer_variant="lite"))


def backends() -> list:
    onnx = pytest.mark.skipif(
        not onnx_engine.onnxruntime_available(), reason="onnx/onnxruntime not installed"
    )
    # cuda-graph on the CPU runs the graph path's logic (its style bank) eagerly.
    return ["torch", pytest.param("onnxruntime", marks=onnx), "cuda-graph"]


@pytest.mark.parametrize("fading", [True, False], ids=["mid-fade", "settled"])
@pytest.mark.parametrize("backend", backends())
def test_thumbnails_leave_the_main_picture_alone(network_styles, backend, fading) -> None:
    """Main frames made between thumbnails of every style are those made without any."""
    clock = Clock()

    def stylizer() -> Stylizer:
        stylizer = Stylizer(network_styles, "cpu", "fp32", backend=backend, clock=clock)
        stylizer.select(stylizer.find("red"))
        stylizer.select(stylizer.find("blue"))  # fading from red: both styles in every frame
        return stylizer

    clock.now = 100.0
    plain, with_strip = stylizer(), stylizer()
    clock.now += 0.1 if fading else 1.0  # 40% of the way, or past the end
    frames = [image(40, 48, seed) for seed in range(len(network_styles) + 2)]
    thumbnails = ThumbnailRound(width=32)
    thumbnails.show(True)
    for frame in frames:
        expected = plain.stylize(frame).image
        np.testing.assert_array_equal(with_strip.stylize(frame).image, expected)
        thumbnails.make(with_strip, frame, 0)
        assert (with_strip.index, with_strip.mix) == (plain.index, plain.mix)
    assert thumbnails.made == len(frames)  # every style made one, between main frames
    # After the thumbnails, the fade goes on to its end as it would have.
    clock.now += 1
    after = with_strip.stylize(frames[0]).image
    np.testing.assert_array_equal(after, plain.stylize(frames[0]).image)


class Spy:
    """Counts the Stylizer's calls by kind: main frames (no index) and thumbnails (index)."""

    def __init__(self, stylizer: Stylizer) -> None:
        self.main = 0
        self.by_index = 0
        real = stylizer.stylize

        def stylize(frame: np.ndarray, index: int | None = None):
            if index is None:
                self.main += 1
            else:
                self.by_index += 1
            return real(frame, index)

        stylizer.stylize = stylize  # type: ignore[method-assign]


def wait_for(condition, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_pipeline_makes_thumbnails_only_while_shown(stylizer: Stylizer, tmp_path: Path):
    spy = Spy(stylizer)
    pipeline = Pipeline(DemoSource(64, 48, fps=60), stylizer, out_dir=tmp_path)
    got: list[Thumbnail] = []
    lock = threading.Lock()

    def keep(thumbnail: Thumbnail) -> None:
        with lock:
            got.append(thumbnail)

    pipeline.add_thumbnail_sink(keep)
    pipeline.start()
    try:
        assert wait_for(lambda: spy.main >= 10)
        assert spy.by_index == 0 and got == []  # hidden: no thumbnail work at all
        pipeline.show_thumbnails(True)
        count = len(stylizer.styles)
        assert wait_for(lambda: len(got) >= 2 * count)
        pipeline.show_thumbnails(False)
        time.sleep(0.1)  # one may be in the making as the strip hides
        with lock:
            shown = list(got)
        stopped_at = spy.by_index
        main_then = spy.main
        assert wait_for(lambda: spy.main >= main_then + 10)
        assert spy.by_index == stopped_at and len(got) == len(shown)  # hidden again: none
    finally:
        pipeline.stop()
    assert {t.index for t in shown} == set(range(count))  # every style
    assert [t.index for t in shown[:count]] == list(range(count))  # in turn, from the first
    frames = [t.frame_index for t in shown]
    assert len(set(frames)) == len(frames)  # one thumbnail per processed frame at most
    assert all(t.image.shape == (48, 64, 3) for t in shown)  # a 64 px frame stays 64 px
    assert pipeline.error is None
