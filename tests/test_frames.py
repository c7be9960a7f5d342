"""The picture helpers: BGR arrays as QImages, fitting, the split view's pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QRect
from PyQt6.QtGui import QColor

from livestyle.live.inference import StylizedFrame
from livestyle.ui.frames import (
    ShownFrame,
    ViewMode,
    bgr_to_qimage,
    compose_split,
    fit_rect,
    view_pixels,
)


def test_fit_rect_letterboxes_and_pillarboxes() -> None:
    wide = fit_rect(64, 48, QRect(0, 0, 400, 100))  # pillarbox
    assert wide.getRect() == pytest.approx((133.33, 0, 133.33, 100), abs=0.01)
    tall = fit_rect(64, 48, QRect(0, 0, 64, 480))  # letterbox
    assert (tall.width(), tall.height(), tall.y()) == (64, 48, 216)
    offset = fit_rect(64, 48, QRect(10, 20, 64, 48))  # the area's own position counts
    assert offset.getRect() == pytest.approx((10, 20, 64, 48))


def test_compose_split() -> None:
    original = np.zeros((4, 8, 3), np.uint8)
    stylized = np.full((4, 8, 3), 100, np.uint8)
    split = compose_split(original, stylized)
    assert split[:, :3].max() == 0 and split[:, 5:].min() == 100 and split[:, 4].min() == 255
    assert stylized.min() == 100  # the inputs are left alone


def test_bgr_to_qimage_keeps_channel_order_and_wraps_contiguous_arrays() -> None:
    array = np.zeros((2, 3, 3), np.uint8)
    array[0, 1] = (10, 20, 30)  # B, G, R
    image, kept = bgr_to_qimage(array)
    assert kept is array  # contiguous: wrapped, not copied
    assert image.pixelColor(1, 0) == QColor(30, 20, 10)
    planar = np.ascontiguousarray(array.transpose(2, 0, 1)).transpose(1, 2, 0)
    image, kept = bgr_to_qimage(planar)  # the stylizer's channel-planar view: copied
    assert kept is not planar and kept.flags.c_contiguous
    assert image.pixelColor(1, 0) == QColor(30, 20, 10)


def test_view_pixels_follow_the_view() -> None:
    original = np.zeros((4, 8, 3), np.uint8)
    stylized = np.full((4, 8, 3), 100, np.uint8)
    shown = ShownFrame.of(StylizedFrame(original, stylized, 0, 0.0, 0.0, 0.0, "alpha"))
    assert shown.size == (8, 4)
    assert np.array_equal(view_pixels(shown, ViewMode.STYLIZED), stylized)
    assert np.array_equal(view_pixels(shown, ViewMode.ORIGINAL), original)
    assert np.array_equal(view_pixels(shown, ViewMode.SPLIT), compose_split(original, stylized))


def test_view_mode_cycles_through_all_three() -> None:
    view, seen = ViewMode.STYLIZED, []
    for _ in range(3):
        view = view.next()
        seen.append(view)
    assert seen == [ViewMode.ORIGINAL, ViewMode.SPLIT, ViewMode.STYLIZED]
