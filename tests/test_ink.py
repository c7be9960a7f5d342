"""Ink (StyleInfo.ink): dark lines on the picture's edges and fuller colour.

Measured on synthetic pictures: a step between dark and light gets a line on its dark side
and nowhere else, a line's width is the same share of a larger frame, noise below the
threshold draws nothing, the frame's edges count half, colours grow fuller about their own
grey; a style's own colour gain (StyleInfo.colour) makes them fuller still and spreads
lightness from mid-grey, without lines. The Stylizer inks every frame after the engine by
the style's own amount, cross-faded with the style, and fading with the strength; its colour
gain only where the network's picture is scaled up; `livestyle stylize` does the same.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.ink import MAX_COLOUR, MAX_INK, REFERENCE_SIDE, inked
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.weights import style_colour, style_ink

from .test_brushwork import _Clock, textured_frame


def step(side: int = 128, dark: int = 80, light: int = 176) -> np.ndarray:
    """A grey BGR picture, dark left of the middle, light right of it."""
    picture = np.full((side, side, 3), dark, np.uint8)
    picture[:, side // 2 :] = light
    return picture


def darkened_columns(before: np.ndarray, after: np.ndarray, by: int = 20) -> np.ndarray:
    """Indices of the middle row's pixels that ink made at least `by` levels darker."""
    row = before.shape[0] // 2
    change = before[row, :, 1].astype(int) - after[row, :, 1].astype(int)
    return np.flatnonzero(change >= by)


def test_no_ink_returns_the_picture_itself() -> None:
    picture = step()
    assert inked(picture, picture, 0.0) is picture
    assert inked(picture, picture, 0.0, colour=0.0) is picture


def test_a_step_gets_one_dark_line_on_its_dark_side() -> None:
    picture = step()
    out = inked(picture, picture, 1.0)
    lined = darkened_columns(step(dark=80, light=80), out)  # against the flat dark level
    middle = picture.shape[1] // 2
    assert lined.size > 0
    assert lined.min() >= middle - 6 and lined.max() < middle  # the dark side, at the edge
    far = out[:, : middle - 12].astype(int)
    assert np.abs(far - 80).max() <= 1  # away from the edge a grey stays as it was


def test_a_line_is_the_same_share_of_a_larger_frame() -> None:
    small, large = step(REFERENCE_SIDE), step(2 * REFERENCE_SIDE)  # lines of 640 px frames up
    narrow = darkened_columns(small, inked(small, small, 1.0)).size
    wide = darkened_columns(large, inked(large, large, 1.0)).size
    assert narrow > 0 and wide == pytest.approx(2 * narrow, abs=1)


def test_a_larger_frames_lines_are_the_smaller_frames_scaled_up() -> None:
    """Above REFERENCE_SIDE the lines are found at that size and scaled up, so a 1280 px
    frame gets the 640 px frame's lines, twice as large, not lines of its own."""
    small = cv2.resize(textured_frame(), (REFERENCE_SIDE, REFERENCE_SIDE * 3 // 4))
    large = cv2.resize(small, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    lines_small, lines_large = inked(small, small, 1.0), inked(large, large, 1.0)
    assert (lines_small < small).any()  # there are lines to compare
    scaled_up = cv2.resize(lines_small, large.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    assert np.abs(lines_large.astype(int) - scaled_up.astype(int)).mean() < 3


def test_noise_below_the_threshold_draws_no_line() -> None:
    noise = np.random.default_rng(0).integers(-2, 3, (128, 128, 1))
    picture = np.repeat((128 + noise).astype(np.uint8), 3, axis=2)
    out = inked(picture, picture, 1.0)
    assert np.abs(out.astype(int) - picture.astype(int)).max() <= 2  # no line, grey kept grey


def test_the_frames_edges_count_half() -> None:
    flat, edged = step(dark=128, light=128), step()
    from_frame = darkened_columns(flat, inked(flat, edged, 1.0), by=5).size
    from_both = darkened_columns(flat, inked(edged, edged, 1.0), by=5).size
    assert 0 < from_frame < from_both  # a line from the frame alone, lighter and narrower
    assert np.array_equal(inked(flat, flat, 1.0), flat)  # no edge anywhere: no line


def test_colours_grow_fuller_about_their_own_grey() -> None:
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[:] = (110, 130, 150)  # a flat, muted colour (BGR)
    spread = np.ptp(picture[0, 0].astype(int))
    half, full = (inked(picture, picture, amount)[32, 32].astype(int) for amount in (0.5, 1.0))
    assert spread < np.ptp(half) < np.ptp(full)
    assert full[2] > full[1] > full[0]  # the same hue, fuller


def test_a_styles_own_colour_is_fuller_with_more_contrast_and_no_lines() -> None:
    picture = np.zeros((64, 64, 3), np.uint8)
    picture[:] = (110, 130, 150)
    inked_only, coloured = (inked(picture, picture, 1.0, c)[32, 32].astype(int) for c in (0, 1))
    assert np.ptp(coloured) > np.ptp(inked_only)  # fuller than ink's own gain
    assert coloured[2] > coloured[1] > coloured[0]
    darker, lighter = step(dark=100, light=100), step(dark=160, light=160)
    assert inked(darker, darker, 0.0, 1.0).max() < 100  # lightness moves away from mid-grey
    assert inked(lighter, lighter, 0.0, 1.0).min() > 160
    edged = step()
    out = inked(edged, edged, 0.0, 1.0)
    assert np.ptp(out[:, : edged.shape[1] // 2]) == 0  # an edge but no ink: no line
    over = inked(edged, edged, 0.0, 5.0)
    np.testing.assert_array_equal(over, inked(edged, edged, 0.0, MAX_COLOUR))  # bounded


def test_a_styles_ink_and_colour_are_bounded() -> None:
    assert style_ink("0.5") == 0.5 and style_ink(MAX_INK) == MAX_INK
    assert style_colour("0.5") == 0.5 and style_colour(MAX_COLOUR) == MAX_COLOUR
    for bad in ("1.5", "-0.1", "nan"):
        with pytest.raises(ValueError, match="ink must be between 0 and 1"):
            style_ink(bad)
        with pytest.raises(ValueError, match="colour must be between 0 and 1"):
            style_colour(bad)


def test_the_stylizer_gives_a_styles_colour_only_where_the_picture_is_scaled_up() -> None:
    """StyleInfo.colour fades like a style's own marks: all of it with the network at half
    the frame's size, none at the frame's own size, where it would only add shimmer."""
    from livestyle.model import VARIANTS

    from .test_quantize import style_list, trained_looking

    plain = style_list(trained_looking(VARIANTS["lite"]))[:1]
    own = [(net, replace(info, colour=1.0)) for net, info in plain]
    frame = textured_frame()  # 128x96
    for side, expected_colour in ((64, 1.0), (128, 0.0)):
        painted, coloured = (
            Stylizer(s, "cpu", "fp32", network_size=NetworkSize(side), backend="torch")
            for s in (plain, own)
        )
        picture = painted.stylize(frame).image
        expected = inked(picture, frame, 0.0, expected_colour)
        np.testing.assert_array_equal(coloured.stylize(frame).image, expected)
        assert np.array_equal(expected, picture) == (expected_colour == 0.0)


def test_the_stylizer_inks_after_the_engine_and_cross_fades_the_amount() -> None:
    """StyleInfo.ink is the style's own: each frame is the engine's picture inked by it, and a
    swap's cross-fade carries one style's amount into the next's by its weights."""
    from livestyle.model import VARIANTS

    from .test_quantize import style_list, trained_looking

    plain = style_list(trained_looking(VARIANTS["lite"]))
    own = [(net, replace(info, ink=i)) for (net, info), i in zip(plain, (1.0, 0.0), strict=True)]
    clocks = _Clock(), _Clock()
    painted, lined = (
        Stylizer(s, "cpu", "fp32", network_size=NetworkSize(64), backend="torch", clock=c)
        for s, c in zip((plain, own), clocks, strict=True)
    )
    frame = textured_frame()
    picture = painted.stylize(frame).image
    np.testing.assert_array_equal(lined.stylize(frame).image, inked(picture, frame, 1.0))
    assert not np.array_equal(picture, inked(picture, frame, 1.0))
    for stylizer in (painted, lined):
        stylizer.strength = 0.5  # the painting's ink fades with the painting
    faded = painted.stylize(frame).image
    np.testing.assert_array_equal(lined.stylize(frame).image, inked(faded, frame, 0.5))
    for stylizer in (painted, lined):
        stylizer.strength = 1.0
    for stylizer, clock in zip((painted, lined), clocks, strict=True):
        stylizer.select(1)
        clock.now += stylizer.fade_seconds / 2  # halfway from style 0's 1.0 to style 1's 0
    halfway = painted.stylize(frame).image
    np.testing.assert_array_equal(lined.stylize(frame).image, inked(halfway, frame, 0.5))


def test_stylize_command_inks_a_style_that_asks_for_it(tmp_path: Path, monkeypatch) -> None:
    from livestyle.cli import main
    from livestyle.weights import read_style_infos, save_style

    from .test_weights import make_style

    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), textured_frame(1))
    styles = tmp_path / "styles"
    styles.mkdir()
    make_style(styles, "plain")
    net, path = make_style(tmp_path, "lined")
    save_style(styles / path.name, net, replace(read_style_infos(path)[0], ink=1.0))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    pictures = {}
    for name in ("plain", "lined"):
        out = tmp_path / f"{name}.png"
        argv = ["stylize", str(photo), "--styles-dir", str(styles), "--style", name, "-o", str(out)]
        assert main([*argv, "--device", "cpu"]) == 0
        pictures[name] = cv2.imread(str(out))
    # The same network (one seed): the lined picture is the plain one inked, and differs.
    expected = inked(pictures["plain"], cv2.imread(str(photo)), 1.0)
    np.testing.assert_array_equal(pictures["lined"], expected)
    assert not np.array_equal(pictures["lined"], pictures["plain"])
