"""The live size that adapts to the machine: the governor's decisions on fed timings and a
fake clock, the fade over a change, and the inference thread and pipeline acting on them."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from livestyle.live.adaptive import (
    FALLBACK_FPS,
    FIRST_SETTLE_SECONDS,
    HEADROOM,
    MIN_FRAMES,
    SETTLE_SECONDS,
    UP_MARGIN,
    SizeFade,
    SizeGovernor,
    size_grid,
    target_rate,
)
from livestyle.live.inference import InferenceThread, Stats
from livestyle.live.pipeline import Pipeline
from livestyle.live.slot import Frame, LatestSlot
from livestyle.model import MIN_INPUT_SIDE
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer

from .fakes import DemoClip, wait_for

BUDGET_30 = HEADROOM / 30.0  # a frame's budget at 30 fps


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pixels(long_side: int) -> int:
    """A 4:3 frame's network pixels at this long side."""
    return long_side * (long_side * 3 // 4)


def machine(seconds_at_320: float) -> Callable[[int], float]:
    """A machine whose frame time grows with the network's area, this slow at 320 px."""
    return lambda long_side: seconds_at_320 * pixels(long_side) / pixels(320)


def run(
    governor: SizeGovernor, clock: Clock, seconds_at: Callable[[int], float], frames: int
) -> list[int]:
    """Feed `frames` frames timed by `seconds_at` (the clock moves by each); the changes."""
    changes = []
    for _ in range(frames):
        seconds = seconds_at(governor.long_side)
        clock.now += seconds
        new = governor.observe(seconds, pixels(governor.long_side))
        if new is not None:
            assert new == governor.long_side
            changes.append(new)
    return changes


def test_the_grid_is_multiples_of_16_between_floor_and_top() -> None:
    assert size_grid(160, 320) == list(range(160, 321, 16))
    assert size_grid(150, 300) == [150, *range(160, 300, 16), 300]
    governor = SizeGovernor(320, 30.0)
    assert (governor.long_side, governor.floor) == (320, 160)
    assert SizeGovernor(8, 30.0).floor == MIN_INPUT_SIDE  # never below the network's smallest
    with pytest.raises(ValueError):
        SizeGovernor(320, 0.0)


def test_too_slow_frames_go_down_at_start_to_the_largest_size_that_fits() -> None:
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    slow = machine(0.05)  # 50 ms at 320 px against a 28 ms budget
    assert run(governor, clock, slow, 30) == [240]  # 30 frames: past the first second
    assert slow(240) <= BUDGET_30 < slow(256)  # 240 fits; the next grid size up would not


def test_no_decision_before_the_settle_time_or_with_too_few_frames() -> None:
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    for _ in range(100):  # many frames, but all within the first second
        clock.now += (FIRST_SETTLE_SECONDS - 0.01) / 100
        assert governor.observe(0.2, pixels(320)) is None
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    for _ in range(MIN_FRAMES - 1):  # time enough, too few frames
        clock.now += 1.0
        assert governor.observe(0.2, pixels(320)) is None
    clock.now += 1.0
    assert governor.observe(0.2, pixels(320)) == 160
    # After a change: the new size's frames wait SETTLE_SECONDS, however many come.
    for _ in range(200):
        clock.now += (SETTLE_SECONDS - 0.01) / 200
        assert governor.observe(0.2, pixels(160)) is None


def test_after_the_start_it_goes_down_at_most_two_steps_a_change() -> None:
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    assert run(governor, clock, machine(0.02), 60) == []  # fits: stays at the top
    changes = run(governor, clock, machine(1.0), 300)  # then the machine gets busy
    assert changes[:3] == [288, 256, 224]
    assert governor.long_side == governor.floor == 160  # never below the floor
    assert changes[-1] == 160 and all(b < a for a, b in itertools.pairwise(changes))


def test_it_goes_up_one_step_at_a_time_only_with_margin_never_above_the_top() -> None:
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    run(governor, clock, machine(1.0), 30)
    assert governor.long_side == 160
    # Frees up: the next size would fit, but not with margin: it stays.
    snug = machine(BUDGET_30 * 0.95 * pixels(320) / pixels(176))
    assert UP_MARGIN * BUDGET_30 < snug(176) < BUDGET_30
    assert run(governor, clock, snug, 400) == []
    roomy = machine(0.02)  # even the top fits with margin
    assert roomy(320) < UP_MARGIN * BUDGET_30
    changes = run(governor, clock, roomy, 10000)
    assert changes == list(range(176, 321, 16))  # one grid step per change, up to the top
    assert governor.long_side == 320


def test_a_steady_load_near_the_budget_does_not_oscillate() -> None:
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    base = machine(BUDGET_30 * 1.05)  # a little over the budget at the top
    noise = itertools.cycle([0.85, 1.15])
    changes = run(governor, clock, lambda side: base(side) * next(noise), 3000)
    assert len(changes) <= 1


@pytest.mark.parametrize("load", [0.97, 1.0, 1.05])
def test_noisy_frames_near_the_budget_never_swing_back(load: float) -> None:
    clock = Clock()
    governor = SizeGovernor(320, 30.0, now=clock)
    base, rng = machine(BUDGET_30 * load), np.random.default_rng(0)
    changes = run(governor, clock, lambda side: base(side) * rng.uniform(0.6, 1.4), 10000)
    assert clock.now > 100 + 60 * SETTLE_SECONDS  # many decisions
    assert len(changes) <= 3 and changes == sorted(changes, reverse=True)  # only ever down


def test_the_target_rate_is_the_option_else_the_sources_else_30() -> None:
    assert target_rate(12.0, 25.0) == 12.0
    assert target_rate(None, 25.0) == 25.0
    assert target_rate(None, 0.0) == FALLBACK_FPS  # a camera reporting nothing
    assert target_rate(None, 90000.0) == FALLBACK_FPS
    assert target_rate(None, None) == FALLBACK_FPS


def test_the_fade_blends_from_the_last_picture_to_the_new_ones() -> None:
    clock = Clock()
    fade = SizeFade(0.4, now=clock)
    old, new = np.zeros((6, 8, 3), np.uint8), np.full((6, 8, 3), 200, np.uint8)
    assert fade(old) is old and not fade.fading  # no change: the picture itself
    fade.begin()
    clock.now += 0.04
    first = fade(new)
    assert first.shape == new.shape and first.dtype == np.uint8
    assert 0 < first.mean() < 50  # mostly the old picture
    clock.now += 0.16
    assert abs(float(fade(new).mean()) - 100) <= 1  # halfway
    clock.now += 0.2
    assert fade(new) is new and not fade.fading  # all new once the fade is over


def test_the_fade_passes_through_a_frame_of_another_shape() -> None:
    clock = Clock()
    fade = SizeFade(0.4, now=clock)
    fade(np.zeros((6, 8, 3), np.uint8))
    fade.begin()
    other = np.full((12, 16, 3), 200, np.uint8)
    assert fade(other) is other and not fade.fading


def fast_clock() -> Callable[[], float]:
    """A clock that moves 0.2 s a call: a governor on it settles in a few frames."""
    ticks = itertools.count()
    return lambda: next(ticks) * 0.2


def test_the_inference_thread_lowers_the_stylizers_size(stylizer: Stylizer) -> None:
    stylizer.network_size = NetworkSize(64, per_style_strokes=True)
    # A budget of a microsecond: any machine is too slow for it.
    governor = SizeGovernor(64, 1e6, now=fast_clock())
    shown: list[object] = []
    thread = InferenceThread(LatestSlot(), stylizer, [shown.append], Stats(), governor=governor)
    image = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    for index in range(MIN_FRAMES):
        thread._process(Frame(image, index, index / 30, 0.0))
    assert stylizer.network_size == NetworkSize(32, per_style_strokes=True)  # the floor
    assert stylizer.network_shape(96, 128) == (24, 32) and thread.fade.fading
    thread._process(Frame(image, MIN_FRAMES, 1.0, 0.0))
    assert len(shown) == MIN_FRAMES + 1 and shown[-1].stylized.shape == image.shape


def test_after_out_of_memory_the_size_no_longer_adapts(stylizer: Stylizer) -> None:
    governor = SizeGovernor(64, 1e6, now=fast_clock())
    thread = InferenceThread(LatestSlot(), stylizer, [], Stats(), governor=governor)
    shrunk = NetworkSize(None, 0.5, per_style_strokes=True)  # what out of memory leaves
    stylizer.network_size = shrunk
    image = np.zeros((48, 64, 3), np.uint8)
    for index in range(3 * MIN_FRAMES):
        thread._process(Frame(image, index, index / 30, 0.0))
    assert stylizer.network_size == shrunk and not thread.adapting


def test_a_pipeline_with_a_governor_adapts_and_its_summary_says_so(stylizer: Stylizer) -> None:
    stylizer.network_size = NetworkSize(64, per_style_strokes=True)
    governor = SizeGovernor(64, 1e6, now=fast_clock())
    pipeline = Pipeline(DemoClip(frames=2 * MIN_FRAMES), stylizer, governor=governor)
    assert pipeline.adapting
    pipeline.start()
    try:
        wait_for(lambda: not pipeline.running, what="the clip's end")
    finally:
        pipeline.stop()
    assert pipeline.error is None and stylizer.network_size.long_side == 32
    assert "network size 32 px (adapted from 64)" in pipeline.summary()


def test_a_pipeline_without_a_governor_keeps_its_size(stylizer: Stylizer) -> None:
    stylizer.network_size = NetworkSize(64, per_style_strokes=True)
    pipeline = Pipeline(DemoClip(frames=MIN_FRAMES + 2), stylizer)
    assert not pipeline.adapting
    pipeline.start()
    try:
        wait_for(lambda: not pipeline.running, what="the clip's end")
    finally:
        pipeline.stop()
    assert stylizer.network_size.long_side == 64 and "network size" not in pipeline.summary()
