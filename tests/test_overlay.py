"""The heads-up overlay's text as a pure function of plain values; where the help box goes."""

from __future__ import annotations

import dataclasses

import pytest
from PyQt6.QtCore import QRectF

from livestyle.live.session import recent_median
from livestyle.ui.frames import ViewMode
from livestyle.ui.overlay import (
    DIM,
    ORANGE,
    RED,
    STALE_FPS_SECONDS,
    WHITE,
    YELLOW,
    OverlayState,
    format_clock,
    overlay_lines,
    place_clear_of,
)

PLAYING = OverlayState(style_name="alpha", fps=30.0, last_frame_age=0.05)


def texts(state: OverlayState) -> list[str]:
    return [text for text, _ in overlay_lines(state)]


def line(state: OverlayState, start: str) -> tuple[str, object]:
    """The one line starting with `start`, and its colour."""
    found = [(text, color) for text, color in overlay_lines(state) if text.startswith(start)]
    assert len(found) == 1, texts(state)
    return found[0]


def test_plain_state() -> None:
    state = dataclasses.replace(
        PLAYING, painting=("The Starry Night", "", "1889"), latency_ms=41.6, inference_ms=20.2
    )
    assert overlay_lines(state) == [
        ("[1] alpha", WHITE),
        ("The Starry Night, 1889", DIM),
        ("30.0 fps   latency 42 ms   inference 20 ms", DIM),
        ("H: help", DIM),
    ]


def test_style_key_is_a_dash_past_nine() -> None:
    assert texts(dataclasses.replace(PLAYING, style_index=8))[0] == "[9] alpha"
    assert texts(dataclasses.replace(PLAYING, style_index=9))[0] == "[-] alpha"


def test_fps_is_stale_without_recent_frames() -> None:
    assert texts(PLAYING)[1] == "30.0 fps"
    stale = dataclasses.replace(PLAYING, last_frame_age=STALE_FPS_SECONDS + 0.01)
    assert texts(stale)[1] == "0.0 fps"
    assert texts(dataclasses.replace(PLAYING, last_frame_age=None))[1] == "0.0 fps"


def test_the_speed_line_shows_the_network_size_and_whether_it_adapts() -> None:
    auto = dataclasses.replace(PLAYING, inference_ms=38.2, net_long_side=288, net_auto=True)
    assert texts(auto)[1] == "30.0 fps   inference 38 ms   net 288 px auto"
    pinned = dataclasses.replace(auto, net_auto=False)
    assert texts(pinned)[1] == "30.0 fps   inference 38 ms   net 288 px"
    assert "net" not in texts(PLAYING)[1]  # no frame yet: no size to name


def test_paused_shows_and_zeroes_the_fps() -> None:
    paused = dataclasses.replace(PLAYING, paused=True)
    assert line(paused, "PAUSED") == ("PAUSED", YELLOW)
    assert texts(paused)[1] == "0.0 fps"
    assert "PAUSED" not in texts(PLAYING)


def test_recording_shows_rec_and_its_clock() -> None:
    recording = dataclasses.replace(PLAYING, recording_for=65.9)
    assert line(recording, "●") == ("● REC 01:05", RED)
    assert not any("REC" in text for text in texts(PLAYING))


def test_saving_a_stopped_recording() -> None:
    saving = dataclasses.replace(PLAYING, saving=("take.mp4", "b.mp4"))
    assert line(saving, "saving take") == ("saving take.mp4...", YELLOW)
    assert line(saving, "saving b") == ("saving b.mp4...", YELLOW)


def test_error_is_red_and_replaces_source_ended() -> None:
    ended = dataclasses.replace(PLAYING, ended=True)
    assert line(ended, "source ended") == ("source ended (Q to quit)", YELLOW)
    failed = dataclasses.replace(ended, error="RuntimeError: sensor on fire")
    assert line(failed, "error") == ("error: RuntimeError: sensor on fire", RED)
    assert not any(text.startswith("source ended") for text in texts(failed))


def test_strength_line() -> None:
    assert not any("strength" in text for text in texts(PLAYING))  # full strength: quiet
    weaker = dataclasses.replace(PLAYING, strength=0.8)
    assert line(weaker, "strength") == ("strength 80%", WHITE)
    just_set = dataclasses.replace(PLAYING, strength_changed=True)
    assert line(just_set, "strength") == ("strength 100%", WHITE)
    # With the overlay hidden only a strength just changed shows, once.
    assert texts(dataclasses.replace(weaker, overlay_visible=False)) == []
    hidden = dataclasses.replace(weaker, overlay_visible=False, strength_changed=True)
    assert texts(hidden) == ["strength 80%"]


def test_hidden_overlay_keeps_messages_in_order() -> None:
    state = dataclasses.replace(
        PLAYING,
        overlay_visible=False,
        error="boom",
        status="camera lost, retrying",
        saving=("take.mp4",),
        toasts=(("saved snapshot x.png", "info"), ("cannot record", "error")),
    )
    assert overlay_lines(state) == [
        ("error: boom", RED),
        ("camera lost, retrying", ORANGE),
        ("saving take.mp4...", YELLOW),
        ("saved snapshot x.png", WHITE),
        ("cannot record", RED),
    ]


def test_view_and_help_hint() -> None:
    assert line(dataclasses.replace(PLAYING, view=ViewMode.SPLIT), "view") == (
        "view: split",
        WHITE,
    )
    assert not any(text.startswith("view") for text in texts(PLAYING))
    assert texts(PLAYING)[-1] == "H: help"
    assert "H: help" not in texts(dataclasses.replace(PLAYING, help_visible=True))


def test_original_colours_line() -> None:
    kept = dataclasses.replace(PLAYING, preserve_color=True)
    assert line(kept, "colours") == ("colours: original", WHITE)
    assert not any("colours" in text for text in texts(PLAYING))


def test_state_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PLAYING.paused = True  # type: ignore[misc]


def test_small_helpers() -> None:
    assert format_clock(0) == "00:00" and format_clock(3599.9) == "59:59"
    assert recent_median([]) is None
    assert recent_median([1000.0] + [5.0] * 30) == 5.0  # only the recent frames count


def test_help_box_goes_clear_of_the_overlay() -> None:
    area = QRectF(0, 0, 400, 300)
    box = QRectF(0, 0, 100, 100)
    assert place_clear_of(box, QRectF(), area).center() == area.center()
    far = QRectF(0, 0, 50, 50)  # does not reach the centred box
    assert place_clear_of(box, far, area).center() == area.center()
    overlay = QRectF(0, 0, 200, 160)
    right = place_clear_of(box, overlay, area)
    assert not right.intersects(overlay) and right.left() >= overlay.right()
    tall = QRectF(0, 0, 320, 160)  # no room to its right: below it
    below = place_clear_of(box, tall, area)
    assert not below.intersects(tall) and below.top() >= tall.bottom()
    huge = QRectF(0, 0, 380, 280)  # no room anywhere: centred, drawn over it
    assert place_clear_of(box, huge, area).center() == area.center()
