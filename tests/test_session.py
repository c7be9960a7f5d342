"""The live session without a window: every control a key reaches, what it leaves for the
overlay (toasts, how long they stay), snapshots, recordings, the end of a run."""

from __future__ import annotations

import signal
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.live import session as session_module
from livestyle.live.adaptive import SizeGovernor
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import (
    FAILURE_TOAST_SECONDS,
    TOAST_SECONDS,
    LiveSession,
    SessionState,
    ViewMode,
)
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer

from .fakes import DemoClip, ListWriter, SpyWriter, solid_frame, wait_for


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def session_over(
    stylizer: Stylizer, out_dir: Path, clock: Clock, source: DemoClip | None = None, **options
) -> LiveSession:
    pipeline = Pipeline(source or DemoClip(), stylizer, out_dir=out_dir, **options)
    return LiveSession(pipeline, out_dir=out_dir, clock=clock)


def started(session: LiveSession) -> list[object]:
    """Start the session's threads; the frames it hands the display come into the list."""
    frames: list[object] = []
    session.start(frames.append, lambda thumbnail: None)
    return frames


def toasts(session: LiveSession) -> list[tuple[str, str]]:
    return list(session.state().toasts)


def test_style_controls(stylizer: Stylizer, tmp_path: Path, clock: Clock) -> None:
    session = session_over(stylizer, tmp_path, clock)
    assert session.style_names == ["alpha", "beta", "gamma"]
    session.next_style()
    assert session.style_index == 1 and session.state().style_name == "beta"
    session.previous_style()
    session.previous_style()  # wraps around
    assert session.style_index == 2
    session.pick_style(0)
    session.pick_style(8)  # no ninth style: ignored
    session.pick_style(-1)
    assert session.style_index == 0


def test_strength_steps_and_its_line(stylizer: Stylizer, tmp_path: Path, clock: Clock) -> None:
    session = session_over(stylizer, tmp_path, clock)
    assert not session.state().strength_changed
    session.strength_down()
    session.strength_down()
    state = session.state()
    assert state.strength == pytest.approx(0.8) and state.strength_changed
    session.strength_up()
    session.strength_up()
    session.strength_up()  # capped at full strength
    assert stylizer.strength == pytest.approx(1.0)
    clock.now += TOAST_SECONDS + 0.1  # the strength line shows a while after a change
    assert not session.state().strength_changed


def test_switches_show_in_the_state(stylizer: Stylizer, tmp_path: Path, clock: Clock) -> None:
    session = session_over(stylizer, tmp_path, clock)
    before = session.state()
    assert before == SessionState(
        style_name="alpha",
        painting=before.painting,
        fps=before.fps,
        view=ViewMode.STYLIZED,
        task=None,
    )
    session.cycle_view()
    session.toggle_preserve_color()
    session.toggle_steady()
    session.toggle_pause()
    after = session.state()
    assert (after.view, after.preserve_color, after.steady, after.paused) == (
        ViewMode.ORIGINAL,
        True,
        False,
        True,
    )
    assert stylizer.preserve_color and not session.pipeline.inference.steady
    session.cycle_view()
    session.cycle_view()
    assert session.view is ViewMode.STYLIZED
    session.show_thumbnails(True)
    assert session.pipeline.thumbnails_on


def test_the_state_names_the_network_size_for_the_frames_shown(
    stylizer: Stylizer, tmp_path: Path, clock: Clock
) -> None:
    stylizer.network_size = NetworkSize(32, per_style_strokes=True)
    session = session_over(stylizer, tmp_path, clock, DemoClip(frames=3))
    assert session.state().net_long_side is None  # no frame yet
    started(session)
    wait_for(lambda: session.pipeline.stats.stylized == 3, what="three frames")
    state = session.state()
    assert (state.net_long_side, state.net_auto) == (32, False)  # 64x48 frames at 32 px
    session.shutdown()
    governor = SizeGovernor(32, 30.0)
    assert session_over(stylizer, tmp_path, clock, governor=governor).state().net_auto


def test_toasts_stay_by_kind_and_only_the_last_three(
    stylizer: Stylizer, tmp_path: Path, clock: Clock
) -> None:
    session = session_over(stylizer, tmp_path, clock)
    session.toast("one")
    session.toast("cannot record: disk full", "error")
    assert toasts(session) == [("one", "info"), ("cannot record: disk full", "error")]
    clock.now += TOAST_SECONDS + 0.1
    session.tick()
    assert toasts(session) == [("cannot record: disk full", "error")]  # a failure stays longer
    clock.now += FAILURE_TOAST_SECONDS
    session.tick()
    assert toasts(session) == []
    for n in range(5):
        session.toast(f"toast {n}")
    assert [text for text, _ in toasts(session)] == ["toast 2", "toast 3", "toast 4"]


def test_without_an_adder_a_drop_is_refused_and_x_says_so(
    stylizer: Stylizer, tmp_path: Path, clock: Clock
) -> None:
    session = session_over(stylizer, tmp_path, clock)
    assert not session.accepts_paintings
    session.add_painting([tmp_path / "painting.png"])  # nothing happens
    session.cancel_adding()
    assert toasts(session) == [("nothing to cancel", "info")]
    assert session.state().task is None


def test_snapshots(
    stylizer: Stylizer, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = session_over(stylizer, tmp_path, clock)
    assert session.save_snapshot(None) is None
    assert toasts(session) == [("no frame to save yet", "warning")]
    monkeypatch.setattr(session_module, "snapshot_stem", lambda: "livestyle-20240101-120000")
    image = solid_frame(77)
    first, second = session.save_snapshot(image), session.save_snapshot(image)
    assert (first, second) == (
        tmp_path / "livestyle-20240101-120000.png",
        tmp_path / "livestyle-20240101-120000-1.png",  # the same second: nothing overwritten
    )
    assert np.array_equal(cv2.imread(str(first)), image)
    assert toasts(session)[-1] == (f"saved snapshot {second}", "info")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    session.out_dir = blocker  # a file where the folder should be
    assert session.save_snapshot(image) is None
    text, kind = toasts(session)[-1]
    assert kind == "error" and text.startswith("could not save snapshot: cannot write")


def test_recording_start_stop_and_saved(stylizer: Stylizer, tmp_path: Path, clock: Clock) -> None:
    writer = SpyWriter()
    session = session_over(stylizer, tmp_path, clock, writer_factory=writer)
    started(session)
    try:
        path = session.toggle_recording()
        assert path is not None and path.parent == tmp_path
        assert toasts(session)[-1] == (f"recording to {path}", "info")
        clock.now += 61
        assert session.state().recording_for == pytest.approx(61)
        wait_for(lambda: len(writer.frames) >= 3, what="frames recorded")
        assert session.toggle_recording() == path
        assert session.state().recording_for is None

        def finalized() -> bool:
            session.tick()
            return session.state().saving == () and not session.pipeline.saving

        wait_for(finalized, what="the recording finalized")
        text, kind = toasts(session)[-1]
        assert kind == "info" and text.startswith(f"saved recording {path} (")
    finally:
        session.shutdown()


def test_a_recording_with_no_frames_says_so(stylizer: Stylizer, tmp_path: Path, clock: Clock):
    session = session_over(stylizer, tmp_path, clock)  # not started: no frame comes
    session.start_recording()
    session.stop_recording()
    session.pipeline.stop()
    session.tick()
    assert toasts(session)[-1] == ("recording stopped: no frames were recorded", "warning")


def test_a_recording_that_cannot_start_says_why(
    stylizer: Stylizer, tmp_path: Path, clock: Clock
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    session = session_over(stylizer, blocker / "captures", clock)
    assert session.start_recording() is None
    text, kind = toasts(session)[-1]
    assert kind == "error" and text.startswith("cannot record") and "captures" in text
    assert not session.pipeline.recording


def test_a_run_records_from_the_start_and_ends_once(
    stylizer: Stylizer, tmp_path: Path, clock: Clock
) -> None:
    writer = ListWriter()
    pipeline = Pipeline(DemoClip(frames=20), stylizer, out_dir=tmp_path, writer_factory=writer)
    session = LiveSession(pipeline, out_dir=tmp_path, record=tmp_path / "take.mp4", clock=clock)
    stops: list[int] = []
    real_stop = pipeline.stop

    def counted_stop(timeout: float = 2.0) -> None:
        stops.append(1)
        real_stop(timeout)

    pipeline.stop = counted_stop  # type: ignore[method-assign]
    frames = started(session)
    assert pipeline.recording and pipeline.recorder.path == tmp_path / "take.mp4"

    def ended() -> bool:
        session.tick()
        return session.ended

    wait_for(ended, what="the source's end")
    assert len(frames) == 20 and session.exit_code(None) == 0
    session.shutdown()
    session.shutdown()
    assert stops == [1] and writer.released
    assert not any(t.is_alive() for t in pipeline.threads)
    assert session.exit_code(signal.SIGTERM) == 128 + signal.SIGTERM
    assert session.summary().startswith("captured 20, stylized 20")
    assert session.error_lines() == []


def test_a_failed_run_exits_1_and_says_why_at_the_end(
    stylizer: Stylizer, tmp_path: Path, clock: Clock
) -> None:
    session = session_over(stylizer, tmp_path, clock, source=DemoClip(fail_at=3))
    started(session)
    try:
        wait_for(lambda: session.pipeline.error is not None, what="the source's failure")
        assert "driver fell over" in (session.state().error or "")
    finally:
        session.shutdown()
    assert session.exit_code(signal.SIGINT) == 1  # the failure wins over the signal
    (line,) = session.error_lines()
    assert line.startswith("livestyle: error: ") and "driver fell over" in line
