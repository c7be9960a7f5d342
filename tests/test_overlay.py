"""The heads-up overlay's text as a pure function of plain values; where the help box goes."""

from __future__ import annotations

import dataclasses

import pytest
from PyQt6.QtCore import QRectF

from livestyle.live.session import recent_median
from livestyle.ui.frames import ViewMode
from livestyle.ui.overlay import (
    DIM,
    FADE_SECONDS,
    ORANGE,
    RED,
    STALE_FPS_SECONDS,
    WHITE,
    YELLOW,
    OverlayState,
    format_clock,
    overlay_lines,
    percentages,
    place_clear_of,
    wrap_lines,
    wrap_text,
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


def test_the_microphone_shows_while_it_is_on_for_recordings() -> None:
    assert not any("mic" in text for text in texts(PLAYING))
    assert "mic: on for recordings" in texts(dataclasses.replace(PLAYING, audio=True))


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


# --- a blend ---
def test_a_blend_names_its_styles_and_their_weights() -> None:
    blend = dataclasses.replace(
        PLAYING, style_name="starry_night", blend=(("great_wave", 2.0), ("starry_night", 3.0))
    )  # the session's weights, in any order and scale: heaviest first, out of 100%
    assert texts(blend)[0] == "[1] starry_night 60% + great_wave 40%"
    thirds = dataclasses.replace(PLAYING, blend=(("a", 1.0), ("b", 1.0), ("c", 1.0)))
    assert texts(thirds)[0] == "[1] a 34% + b 33% + c 33%"  # whole percents that add up
    single = dataclasses.replace(PLAYING, blend=(("alpha", 1.0),))
    assert texts(single)[0] == texts(PLAYING)[0] == "[1] alpha"


def test_a_blend_of_many_names_three_and_counts_the_rest() -> None:
    parts = (("a", 0.1), ("b", 0.3), ("c", 0.25), ("d", 0.2), ("e", 0.15))
    state = dataclasses.replace(PLAYING, style_index=1, blend=parts)
    assert texts(state)[0] == "[2] b 30% + c 25% + d 20% + 2 more"


def test_percentages_add_up_to_100() -> None:
    assert percentages([0.6, 0.4]) == [60, 40]
    assert percentages([2.0, 1.0]) == [67, 33]
    assert sum(percentages([1.0] * 7)) == 100
    assert percentages([0.0, 0.0]) == [0, 0]


# --- toasts fade, then go ---
def toast_colours(state: OverlayState) -> list[object]:
    return [color for text, color in overlay_lines(state) if text.startswith("toast")]


def test_a_toast_fades_over_its_last_second() -> None:
    toasts = (("toast info", "info"), ("toast error", "error"))
    shown = dataclasses.replace(PLAYING, toasts=toasts, toast_seconds_left=(1.5, 5.0))
    assert toast_colours(shown) == [WHITE, RED]  # fully shown until its last second
    fading = dataclasses.replace(shown, toast_seconds_left=(FADE_SECONDS / 4, FADE_SECONDS / 2))
    info, error = toast_colours(fading)
    assert info.alphaF() == pytest.approx(0.25, abs=0.01)
    assert error.alphaF() == pytest.approx(0.5, abs=0.01)
    assert (error.red(), error.green(), error.blue()) == (RED.red(), RED.green(), RED.blue())
    gone = dataclasses.replace(shown, toast_seconds_left=(0.0, 0.0))
    assert [color.alphaF() for color in toast_colours(gone)] == [0.0, 0.0]


# --- long lines wrap inside the window ---
def chars(text: str) -> float:
    """A stand-in font: every character 10 px wide."""
    return 10.0 * len(text)


def test_long_lines_wrap_between_words_within_the_width() -> None:
    text = "virtual camera off: no device; to set one up: sudo modprobe v4l2loopback"
    rows = wrap_text(text, 200, chars)
    assert len(rows) > 1 and all(chars(row) <= 200 for row in rows)
    assert " ".join(rows) == text  # every word kept, in order, broken only at spaces
    assert rows[0] == "virtual camera off:"
    assert wrap_text("30.0 fps   latency 42 ms", 1000, chars) == ["30.0 fps   latency 42 ms"]


def test_a_word_wider_than_the_window_breaks_inside_it() -> None:
    path = "/home/tester/" + "very-long-folder/" * 4 + "snapshot.png"
    rows = wrap_text(f"saved snapshot {path}", 100, chars)
    assert rows[0] == "saved"
    assert all(chars(row) <= 100 for row in rows)
    assert "".join(rows[2:]) == path
    assert wrap_text("abc", 5, chars) == ["a", "b", "c"]  # narrower than a character


def test_wrapped_lines_keep_their_colours_and_the_first_its_own_measure() -> None:
    lines = [("[1] alpha beta", WHITE), ("short", DIM), ("cannot record: disk full", RED)]

    def bold(text: str) -> float:  # the first line is drawn bold: wider
        return 20.0 * len(text)

    assert wrap_lines(lines, 150, chars, bold) == [
        [("[1]", WHITE), ("alpha", WHITE), ("beta", WHITE)],
        [("short", DIM)],
        [("cannot record:", RED), ("disk full", RED)],
    ]
