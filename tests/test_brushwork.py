"""Bolder brushwork (B, --marks): the picture's own marks made stronger, at the strokes' scale.

Measured on synthetic pictures: stripes of a stroke's width gain contrast by 1 + amount, a
flat picture and a broad gradient stay as they were, the band follows the network's scale,
and the choice reaches every frame from the Stylizer, the window's B key, `stylize`, the
saved settings and the overlay. A style's own marks add to the user's where the network's
picture is scaled up, and cross-fade with the style.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt6.QtCore import Qt

from livestyle.brushwork import (
    FULL_OWN_MARKS_SCALE,
    MARK_STEPS,
    MAX_MARKS,
    amount,
    bolder,
    clamp_marks,
    next_marks,
)
from livestyle.cli import main
from livestyle.config import LiveConfig
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession
from livestyle.presets import Presets, current_presets, fill_options, parse_presets
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource

from .test_fast_paths import styles

WAIT_MS = 30_000


def stripes(period: int, size: int = 96, low: int = 100, high: int = 156) -> np.ndarray:
    """Vertical stripes, `period` px from one to the next, as a grey BGR picture."""
    column = np.where((np.arange(size) // (period // 2)) % 2 == 0, low, high).astype(np.uint8)
    return np.repeat(np.tile(column, (size, 1))[..., None], 3, axis=2)


def contrast(image: np.ndarray) -> float:
    """The standard deviation of the picture's middle (clear of the blur's mirrored edges)."""
    middle = image[16:-16, 16:-16].astype(np.float64)
    return float(middle.std())


@pytest.mark.parametrize("amount", [0.5, 1.0, 2.0])
def test_a_strokes_contrast_grows_by_one_plus_the_amount(amount: float) -> None:
    picture = stripes(period=8)
    out = bolder(picture, amount, scale=2.0)  # sigma 4 px: the stripes lie inside the band
    assert contrast(out) / contrast(picture) == pytest.approx(1.0 + amount, rel=0.15)
    assert out.mean() == pytest.approx(picture.mean(), abs=1.0)  # marks, not brightness


def test_nothing_asked_nothing_done_and_flat_stays_flat() -> None:
    picture = stripes(period=8)
    assert bolder(picture, 0.0) is picture
    flat = np.full((64, 64, 3), (40, 120, 200), np.uint8)
    np.testing.assert_array_equal(bolder(flat, MAX_MARKS, scale=2.0), flat)
    # A broad gradient (a sky's light) is far wider than the band: all but untouched.
    ramp = np.repeat(np.tile(np.linspace(60, 190, 96), (96, 1))[..., None], 3, 2)
    ramp = ramp.astype(np.uint8)
    assert np.abs(bolder(ramp, 1.0).astype(int) - ramp)[16:-16, 16:-16].max() <= 2


def test_the_band_follows_the_networks_scale() -> None:
    """Wide stripes are strokes when the network ran at a quarter of the frame (its pixels 4x
    larger on screen) and a gradient when it ran at the frame's own size."""
    picture = stripes(period=24)
    small_net = contrast(bolder(picture, 1.0, scale=4.0))
    full_net = contrast(bolder(picture, 1.0, scale=0.5))
    assert small_net > 1.6 * contrast(picture)
    assert full_net < small_net * 0.8


def test_boosted_marks_clip_at_white_and_black_without_wrapping() -> None:
    picture = stripes(period=8, low=5, high=250)
    out = bolder(picture, 2.0, scale=2.0)
    dark, light = picture[32, :, 0] == 5, picture[32, :, 0] == 250
    assert (out[32, dark, 0] <= 5).all() and (out[32, light, 0] >= 250).all()


def test_the_keys_steps_and_the_bounds() -> None:
    seen = [0.0]
    for _ in MARK_STEPS:
        seen.append(next_marks(seen[-1]))
    assert seen == [0.0, 0.5, 1.0, 0.0]
    assert next_marks(1.7) == 0.0  # past the last step (--marks 1.7): back to as painted
    assert next_marks(0.2) == 0.5
    assert (clamp_marks(-1), clamp_marks(9), clamp_marks(0.7)) == (0.0, MAX_MARKS, 0.7)


def textured_frame(seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return cv2.resize(noise, (128, 96), interpolation=cv2.INTER_CUBIC)


def test_the_stylizer_makes_every_frame_bolder_after_the_engine() -> None:
    stylizer = Stylizer(styles(), "cpu", "fp32", network_size=NetworkSize(64), backend="torch")
    frame = textured_frame()
    painted = stylizer.stylize(frame).image
    stylizer.marks = 1.0
    bold = stylizer.stylize(frame).image
    # Exactly the engine's picture made bolder, with the band at the network's scale (2x).
    np.testing.assert_array_equal(bold, bolder(painted, 1.0, scale=2.0))
    assert contrast(bold) > 1.2 * contrast(painted)
    stylizer.marks = 5.0
    assert stylizer.marks == MAX_MARKS


def test_a_styles_own_marks_grow_with_the_upscale_and_the_users_add() -> None:
    assert amount(0.0, 0.4, 1.0) == 0.0  # the network at the frame's size
    assert amount(0.0, 0.4, 1.5) == pytest.approx(0.2)
    assert amount(0.0, 0.4, FULL_OWN_MARKS_SCALE) == pytest.approx(0.4)
    assert amount(0.0, 0.4, 4.0) == pytest.approx(0.4)  # a slow CPU's 160 px on 640
    assert amount(0.5, 0.4, 1.0) == 0.5  # the user's always
    assert amount(1.8, 0.4, 3.0) == MAX_MARKS


class _Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_styles_own_marks_add_to_the_users_and_cross_fade() -> None:
    """StyleInfo.marks (a painting whose strokes read only when crisp) is added to the user's
    amount, and a swap's cross-fade carries one style's into the next's by its weights."""
    from dataclasses import replace

    from livestyle.model import VARIANTS

    from .test_quantize import style_list, trained_looking

    plain = style_list(trained_looking(VARIANTS["lite"]))
    own = [(net, replace(info, marks=m)) for (net, info), m in zip(plain, (0.5, 0.0), strict=True)]
    clocks = _Clock(), _Clock()
    size = NetworkSize(64)
    painted, bold = (
        Stylizer(s, "cpu", "fp32", network_size=size, backend="torch", clock=c)
        for s, c in zip((plain, own), clocks, strict=True)
    )
    frame = textured_frame()
    for stylizer in (painted, bold):
        stylizer.network_size = NetworkSize()  # at the frame's size: the strokes are crisp
    np.testing.assert_array_equal(bold.stylize(frame).image, painted.stylize(frame).image)
    for stylizer in (painted, bold):
        stylizer.network_size = size  # scaled up 2x: the style's own, all of them
    for user, expected in ((0.0, 0.5), (0.5, 1.0)):  # the style's own alone, then both
        bold.marks = user
        np.testing.assert_array_equal(
            bold.stylize(frame).image, bolder(painted.stylize(frame).image, expected, scale=2.0)
        )
    assert bold.marks == 0.5  # the user's own amount, which the window shows and saves
    bold.marks = 0.0
    for stylizer, clock in zip((painted, bold), clocks, strict=True):
        stylizer.select(1)
        clock.now += stylizer.fade_seconds / 2  # halfway from style 0's 0.5 to style 1's 0
    np.testing.assert_array_equal(
        bold.stylize(frame).image, bolder(painted.stylize(frame).image, 0.25, scale=2.0)
    )


def test_b_key_cycles_the_brushwork_in_the_window(qtbot, stylizer: Stylizer, tmp_path) -> None:
    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer, out_dir=tmp_path)
    session = LiveSession(pipeline, out_dir=tmp_path)
    window = LiveWindow(session, size=(320, 240))
    qtbot.addWidget(window)
    window.start()
    try:
        assert "brushwork" not in window.overlay_text()
        qtbot.keyClick(window, Qt.Key.Key_B)
        assert stylizer.marks == 0.5 and session.state().marks == 0.5
        assert "brushwork: +50%" in window.overlay_text()
        qtbot.keyClick(window, Qt.Key.Key_B)
        assert "brushwork: +100%" in window.overlay_text()
        qtbot.waitUntil(lambda: window.shown is not None, timeout=WAIT_MS)
        qtbot.keyClick(window, Qt.Key.Key_B)
        assert stylizer.marks == 0.0 and "brushwork" not in window.overlay_text()
    finally:
        window.shutdown()


def test_the_choice_is_saved_and_given_options_win(stylizer: Stylizer) -> None:
    stylizer.marks = 0.5
    assert current_presets(stylizer, "stylized", None).marks == 0.5
    assert parse_presets({"marks": 1}) == (Presets(marks=1.0), [])
    for bad in (2.5, -0.1, True, "bold"):
        presets, problems = parse_presets({"marks": bad})
        assert presets == Presets() and "marks" in problems[0]
    config = LiveConfig()
    assert fill_options(config, Presets(marks=1.0)).style_options.marks == 1.0
    given = fill_options(config, Presets(marks=1.0))
    given = fill_options(given, Presets(marks=0.5))  # a given value is kept
    assert given.style_options.marks == 1.0


def test_stylize_command_paints_bolder_marks(styles_env, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), textured_frame(1))
    for name, options in (("painted", []), ("bold", ["--marks", "1"])):
        out = tmp_path / f"{name}.png"
        assert main(["stylize", str(photo), "--style", "beta", *options, "-o", str(out)]) == 0
    painted, bold = (cv2.imread(str(tmp_path / f"{n}.png")) for n in ("painted", "bold"))
    assert contrast(bold) > 1.2 * contrast(painted)


def test_marks_out_of_bounds_is_one_line_and_exit_2(styles_env, tmp_path: Path, capsys) -> None:
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), textured_frame(1))
    with pytest.raises(SystemExit) as exited:
        main(["stylize", str(photo), "--marks", "3", "-o", str(tmp_path / "out.png")])
    assert exited.value.code == 2
    assert "--marks: must be between 0 and 2, got 3" in capsys.readouterr().err
