"""Dots (StyleInfo.dots): the picture rebuilt from small flat dabs of colour.

Measured on synthetic pictures: without the fine detail, every dot is one colour and the dots
stay where they are whatever the picture; the fine detail brings back a line thinner than a
dot; a bar thinner than a dot that differs only in colour is drawn dark, a broad edge of
colour and colour noise are not; a dot is the same share of a larger frame; a dot's lightness
is half the picture's and half the camera frame's, lifted and softened towards the
painting's light; its colour is the picture's, fuller, and flat where the frame is flat; each
dot has its own fixed shift; part of the amount blends.
The Stylizer dots every frame after ink by the style's own amount, fading with the strength.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from livestyle import dots
from livestyle.dots import (
    FRAME_LIGHT,
    LIGHT_GAIN,
    LIGHT_MEAN,
    MAX_DOTS,
    SATURATION,
    SPACING,
    dotted,
)
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.weights import style_dots

from .test_brushwork import textured_frame


def flat(colour: tuple[int, int, int], height: int = 360, width: int = 640) -> np.ndarray:
    return np.full((height, width, 3), colour, np.uint8)


def webcam_sized(seed: int) -> np.ndarray:
    """A 640x360 picture with features from a few pixels to tens across."""
    return cv2.resize(textured_frame(seed), (640, 360), interpolation=cv2.INTER_CUBIC)


def same_as_right_neighbour(picture: np.ndarray) -> np.ndarray:
    """Per pixel (but the last column): whether it has its right neighbour's colour."""
    return np.all(picture[:, 1:] == picture[:, :-1], axis=2)


def lightness(picture: np.ndarray) -> float:
    return float(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY).mean())


def test_no_dots_returns_the_picture_itself() -> None:
    picture = textured_frame()
    assert dotted(picture, picture, 0.0) is picture
    assert dotted(picture, picture, -1.0) is picture


def test_the_dots_are_flat_and_stay_put_whatever_the_picture(monkeypatch) -> None:
    """Without the fine detail, neighbours share a colour exactly where they share a dot: the
    same pairs for two unrelated pictures, so the dots never move with the picture."""
    monkeypatch.setattr(dots, "DETAIL", 0.0)
    first, second = webcam_sized(1), webcam_sized(2)
    one, two = dotted(first, first, 1.0), dotted(second, second, 1.0)
    shared_one, shared_two = same_as_right_neighbour(one), same_as_right_neighbour(two)
    assert 0.3 < shared_one.mean() < 0.95  # dots several pixels across, not one colour
    # A dot's own fixed shift may rarely give two neighbouring dots one colour.
    assert (shared_one != shared_two).mean() < 0.01
    again = dotted(first, first, 1.0)
    np.testing.assert_array_equal(one, again)


def test_the_fine_detail_brings_back_a_line_thinner_than_a_dot(monkeypatch) -> None:
    picture = flat((170, 170, 170))
    picture[:, 320] = 40  # a dark line one pixel wide: a launch tower's strut
    lined = dotted(picture, picture, 1.0).astype(float)
    plain = dotted(flat((170, 170, 170)), flat((170, 170, 170)), 1.0).astype(float)
    darker = (plain - lined).mean(axis=(0, 2))
    assert darker[320] > 40 and np.abs(darker[:300]).max() < 3
    monkeypatch.setattr(dots, "DETAIL", 0.0)
    flat_dots = dotted(picture, picture, 1.0).astype(float)
    assert (plain - flat_dots).mean(axis=(0, 2))[320] < 25  # spread over its dots, fainter


def test_a_dot_is_the_same_share_of_a_larger_frame(monkeypatch) -> None:
    """As many dots (flat, without the fine detail) on a frame of REFERENCE_SIDE as expected
    of their spacing; a larger frame's dots are that frame's scaled up."""
    monkeypatch.setattr(dots, "DETAIL", 0.0)
    picture = webcam_sized(3)
    painted = dotted(picture, picture, 1.0)
    count = len(np.unique(painted.reshape(-1, 3), axis=0))
    expected = 640 * 360 / (SPACING**2 * np.sqrt(0.75))
    assert 0.8 * expected < count <= 1.05 * expected
    large = cv2.resize(picture, (1280, 720), interpolation=cv2.INTER_LINEAR)
    scaled_up = cv2.resize(painted, (1280, 720), interpolation=cv2.INTER_LINEAR)
    # The larger frame is made from a copy of REFERENCE_SIDE: the same dots, scaled up.
    difference = np.abs(dotted(large, large, 1.0).astype(int) - scaled_up.astype(int))
    assert difference.mean() < 2.0


def test_a_large_photo_keeps_its_own_fine_detail() -> None:
    """The flat dots of a frame larger than REFERENCE_SIDE are laid on a smaller copy, but the
    detail finer than a dot is the frame's own: a line one pixel wide on a 2560 px photo."""
    picture = flat((170, 170, 170), 1440, 2560)
    picture[:, 1280] = 40
    lined = dotted(picture, picture, 1.0).astype(float)
    plain = flat((170, 170, 170), 1440, 2560)
    darker = (dotted(plain, plain, 1.0).astype(float) - lined).mean(axis=(0, 2))
    assert darker[1280] > 40 and np.abs(darker[1279:1282:2]).max() < 15


def in_ycrcb(y: int, cr: int, cb: int, height: int = 360, width: int = 640) -> np.ndarray:
    """A flat BGR picture of one YCrCb colour."""
    return cv2.cvtColor(np.full((height, width, 3), (y, cr, cb), np.uint8), cv2.COLOR_YCrCb2BGR)


SKY, TOWER = (95, 110, 160), (95, 150, 100)  # a night sky's blue, a tower's brown: as light


def column_darkening(picture: np.ndarray, monkeypatch) -> np.ndarray:
    """Per column, how much darker `picture` is dotted with the thin colour term than without."""
    with_bars = dotted(picture, picture, 1.0).astype(float)
    monkeypatch.setattr(dots, "THIN_COLOUR", 0.0)
    without = dotted(picture, picture, 1.0).astype(float)
    return (without - with_bars).mean(axis=(0, 2))


@pytest.mark.parametrize(("height", "width", "bar"), [(360, 640, 2), (1440, 2560, 8)])
def test_a_thin_bar_of_colour_alone_is_drawn_dark(monkeypatch, height, width, bar) -> None:
    """A launch tower's strut, brown on a blue sky of the same lightness, a few pixels wide on
    a webcam's frame (and as wide a share of a large photo): without the term the dots lose it."""
    picture = in_ycrcb(*SKY, height, width)
    middle = width // 2
    picture[:, middle : middle + bar] = in_ycrcb(*TOWER, height, bar)
    sky = in_ycrcb(*SKY, height, width)
    against_sky = dotted(sky, sky, 1.0).astype(float) - dotted(picture, picture, 1.0)
    assert against_sky.mean(axis=(0, 2))[middle : middle + bar].min() > 40  # darker than the sky
    darker = column_darkening(picture, monkeypatch)
    assert darker[middle : middle + bar].min() > 40
    assert np.abs(darker[: middle - 4 * bar]).max() < 1


def test_a_broad_edge_of_colour_is_not_outlined(monkeypatch) -> None:
    """A face against a wall is an edge, not a bar: no dark outline along it (judges lost the
    portraits when the dots had one)."""
    picture = in_ycrcb(*SKY)
    picture[:, 320:] = in_ycrcb(*TOWER, 360, 320)
    assert np.abs(column_darkening(picture, monkeypatch)).max() < 1


def test_colour_noise_under_the_floor_is_left_alone(monkeypatch) -> None:
    """A webcam's colour noise, a few grey levels of Cr and Cb, changes nothing."""
    planes = np.full((360, 640, 3), SKY, np.int16)
    planes[..., 1:] += np.random.default_rng(4).integers(-3, 4, (360, 640, 2), dtype=np.int16)
    picture = cv2.cvtColor(planes.astype(np.uint8), cv2.COLOR_YCrCb2BGR)
    assert np.abs(column_darkening(picture, monkeypatch)).max() == 0


@pytest.mark.parametrize("level", [40, 128, 220])
def test_lightness_is_lifted_and_softened_towards_the_paintings_light(level: int) -> None:
    picture = flat((level, level, level))
    expected = LIGHT_MEAN + LIGHT_GAIN * (level - 128)
    assert lightness(dotted(picture, picture, 1.0)) == pytest.approx(expected, abs=2.0)


def test_the_camera_frames_lightness_counts_its_share() -> None:
    picture, frame = flat((100, 100, 100)), flat((200, 200, 200))
    mixed = FRAME_LIGHT * 200 + (1 - FRAME_LIGHT) * 100
    expected = LIGHT_MEAN + LIGHT_GAIN * (mixed - 128)
    assert lightness(dotted(picture, frame, 1.0)) == pytest.approx(expected, abs=2.0)


def test_a_dots_colour_is_the_pictures_fuller_and_each_dot_shifted_its_own_way() -> None:
    picture = flat((150, 120, 90))  # a light blue in BGR
    painted = dotted(picture, picture, 1.0).reshape(-1, 3).astype(float)
    grey = painted @ np.array([0.114, 0.587, 0.299])
    colour = (painted - grey[:, None]).mean(axis=0)
    source = np.array([150, 120, 90]) - np.array([150, 120, 90]) @ [0.114, 0.587, 0.299]
    np.testing.assert_allclose(colour, SATURATION * source, atol=2.5)
    spread = painted.std(axis=0)
    assert np.all(spread > 5.0) and np.all(spread < 40.0)  # dot to dot, not pixel noise


def colour_rows(picture: np.ndarray) -> np.ndarray:
    """Each row's mean Cr (YCrCb's red-green axis) of a BGR picture."""
    return cv2.cvtColor(picture, cv2.COLOR_BGR2YCrCb)[..., 1].astype(float).mean(axis=1)


def test_the_networks_bands_of_colour_go_flat_where_the_frame_is_flat(monkeypatch) -> None:
    """Bands of colour the network paints across a smooth sky (the frame flat there) are
    smoothed away; where the frame has an edge, the colour keeps its edge."""
    monkeypatch.setattr(dots, "HUE_JITTER", 0.0)
    monkeypatch.setattr(dots, "LIGHT_JITTER", 0.0)
    rows = np.arange(360)[:, None]
    bands = np.where((rows // 20) % 2 == 0, 1, -1)  # 20 px bands of red and green
    picture = flat((120, 128, 128)).astype(int)
    picture[..., 2] += 25 * bands  # R
    picture[..., 1] -= 25 * bands  # G
    picture = np.clip(picture, 0, 255).astype(np.uint8)
    sky = flat((170, 170, 170))
    banded = colour_rows(dotted(picture, sky, 1.0))[40:320]
    monkeypatch.setattr(dots, "COLOUR_GUIDE", 0.0)
    unsmoothed = colour_rows(dotted(picture, sky, 1.0))[40:320]
    assert banded.std() < 0.25 * unsmoothed.std()
    # The frame's edge at row 180: red above, green below, in picture and frame alike.
    monkeypatch.setattr(dots, "COLOUR_GUIDE", 4.0)
    edge = flat((120, 128, 128)).astype(int)
    edge[:180, :, 2] += 40
    edge[180:, :, 1] += 40
    edged_frame = flat((60, 60, 60))
    edged_frame[:180] = 200
    rows_out = colour_rows(dotted(np.clip(edge, 0, 255).astype(np.uint8), edged_frame, 1.0))
    far = rows_out[100:140].mean() - rows_out[220:260].mean()
    near = rows_out[170:178].mean() - rows_out[182:190].mean()  # a dot or two from the edge
    assert far > 30 and near > 0.6 * far


def test_part_of_the_amount_blends_the_dots_with_the_picture() -> None:
    picture = webcam_sized(4)
    full = dotted(picture, picture, MAX_DOTS)
    half = dotted(picture, picture, 0.5)
    expected = cv2.addWeighted(picture, 0.5, full, 0.5, 0.0)
    np.testing.assert_array_equal(half, expected)
    np.testing.assert_array_equal(dotted(picture, picture, 3.0), full)  # at most MAX_DOTS


def test_small_and_odd_frames_are_dotted_whole() -> None:
    for height, width in ((1, 1), (3, 5), (7, 1), (33, 17)):
        picture = np.random.default_rng(height).integers(0, 256, (height, width, 3), np.uint8)
        assert dotted(picture, picture, 1.0).shape == picture.shape


def test_a_styles_dots_are_bounded() -> None:
    assert style_dots("0.5") == 0.5 and style_dots(MAX_DOTS) == MAX_DOTS
    for bad in ("1.5", "-0.1", "nan"):
        with pytest.raises(ValueError, match="dots must be between 0 and 1"):
            style_dots(bad)


def test_the_stylizer_dots_after_ink_and_fades_with_the_strength() -> None:
    """StyleInfo.dots is the style's own: each frame is the engine's picture, inked, then
    dotted, at every network size (the dots replace the network's marks), by the style's
    amount times the strength."""
    from livestyle.model import VARIANTS

    from .test_quantize import style_list, trained_looking

    plain = style_list(trained_looking(VARIANTS["lite"]))[:1]
    own = [(net, replace(info, dots=1.0, ink=1.0)) for net, info in plain]
    inked_only = [(net, replace(info, ink=1.0)) for net, info in plain]
    frame = textured_frame()  # 128x96
    for side in (64, 128):
        made = [
            Stylizer(s, "cpu", "fp32", network_size=NetworkSize(side), backend="torch")
            for s in (inked_only, own)
        ]
        for strength in (1.0, 0.5):
            for stylizer in made:
                stylizer.strength = strength
            picture = made[0].stylize(frame).image
            expected = dotted(picture, frame, strength)
            np.testing.assert_array_equal(made[1].stylize(frame).image, expected)
            assert not np.array_equal(expected, picture)
