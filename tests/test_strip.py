"""The style strip in the live window, offscreen: G, its thumbnails arriving, drawing, clicks.

How thumbnails are made (round robin, only while shown, main picture untouched) is tested
without a window in test_thumbnails.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QApplication

from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession
from livestyle.live.thumbnails import Thumbnail
from livestyle.stylizer import Stylizer
from livestyle.ui.strip import (
    MAX_CELL,
    MIN_CELL,
    ThumbnailBridge,
    cell_at,
    cell_label,
    layout_strip,
)
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource

from .test_window import mean_diff, to_bgr

WIDTH, HEIGHT = 64, 48
BOX = (480, 360)
WAIT_MS = 30_000  # a deadline for a condition: generous, a busy CPU is slow


@pytest.fixture
def window(qtbot, stylizer: Stylizer, tmp_path: Path) -> Iterator[LiveWindow]:
    pipeline = Pipeline(DemoSource(WIDTH, HEIGHT, fps=30), stylizer, out_dir=tmp_path)
    win = LiveWindow(LiveSession(pipeline, out_dir=tmp_path), size=BOX)
    qtbot.addWidget(win)
    win.start()
    win.show()
    qtbot.waitUntil(lambda: win.frames_shown > 0, timeout=WAIT_MS)
    yield win
    win.shutdown()


def font() -> QFont:
    font = QFont()
    font.setPixelSize(12)
    return font


# --- layout ---


def test_the_strip_lies_along_the_bottom_one_cell_per_style(qapp) -> None:
    area = QRectF(0, 0, 960, 720)
    layout = layout_strip(12, area, 0.75, font())
    cells = layout.cells
    assert len(cells) == 12
    assert all(area.contains(cell) for cell in cells)
    assert len({round(c.top()) for c in cells}) == 1  # one row in a wide window
    assert cells[0].width() <= MAX_CELL and cells[0].bottom() > area.bottom() - 20
    for left, right in zip(cells, cells[1:], strict=False):
        assert left.right() < right.left()  # side by side, never overlapping
    picture = layout.picture(0)
    assert picture.height() == pytest.approx(picture.width() * 0.75)  # the frame's aspect
    assert abs(area.center().x() - cells[0].united(cells[-1]).center().x()) < 1  # centred


def test_a_narrow_window_wraps_the_strip_into_rows(qapp) -> None:
    area = QRectF(0, 0, 320, 240)
    cells = layout_strip(12, area, 0.75, font()).cells
    rows = sorted({round(c.top()) for c in cells})
    assert len(rows) > 1 and all(c.width() >= MIN_CELL for c in cells)
    assert max(c.bottom() for c in cells) <= area.bottom()


def test_a_point_finds_the_cell_under_it(qapp) -> None:
    cells = layout_strip(5, QRectF(0, 0, 800, 600), 0.75, font()).cells
    for index, cell in enumerate(cells):
        assert cell_at(cells, cell.center()) == index
    between = QPointF((cells[0].right() + cells[1].left()) / 2, cells[0].center().y())
    assert cell_at(cells, between) is None
    assert cell_at(cells, QPointF(400, 50)) is None  # the picture above the strip


def test_labels_carry_the_digit_key_of_the_first_nine() -> None:
    assert cell_label(0, "starry_night") == "1 starry_night"
    assert cell_label(8, "udnie") == "9 udnie"
    assert cell_label(9, "scream") == "scream"


# --- the bridge ---


def thumbnail(index: int, frame: int = 0) -> Thumbnail:
    return Thumbnail(index, np.full((6, 8, 3), frame, np.uint8), frame, f"s{index}")


def test_the_bridge_keeps_the_newest_thumbnail_of_each_style(qtbot) -> None:
    bridge = ThumbnailBridge()
    signals: list[int] = []
    bridge.arrived.connect(lambda: signals.append(1), Qt.ConnectionType.QueuedConnection)
    producer = threading.Thread(
        target=lambda: [bridge.submit(thumbnail(i % 3, i)) for i in range(30)]
    )
    producer.start()
    producer.join()
    QApplication.processEvents()
    assert signals == [1]  # one queued signal for all thirty
    taken = {t.index: t.frame_index for t in bridge.take()}
    assert taken == {0: 27, 1: 28, 2: 29}  # every style, its newest
    assert bridge.take() == []
    bridge.close()
    bridge.submit(thumbnail(0))
    assert bridge.take() == []


# --- the window ---


def test_g_shows_and_hides_the_strip_and_its_thumbnails(qtbot, window: LiveWindow) -> None:
    pipeline = window.session.pipeline
    assert not window.strip_visible and not pipeline.thumbnails_on
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert window.strip_visible and pipeline.thumbnails_on
    count = len(window.session.stylizer.styles)
    qtbot.waitUntil(lambda: len(window.thumbnails) == count, timeout=WAIT_MS)
    for index, shown in window.thumbnails.items():
        assert shown.thumbnail.index == index
        assert shown.thumbnail.style == window.session.stylizer.styles[index].info.name
    window.grab()  # draws
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert not window.strip_visible and not pipeline.thumbnails_on
    assert window.thumbnails == {}
    made = pipeline.inference.thumbnails.made
    shown = window.frames_shown
    qtbot.waitUntil(lambda: window.frames_shown >= shown + 5, timeout=WAIT_MS)
    assert window.thumbnails == {}  # hidden: none kept
    assert pipeline.inference.thumbnails.made <= made + 1  # and none made (one in flight)


def test_the_strip_draws_each_thumbnail_in_its_cell(qtbot, window: LiveWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Tab)  # no overlay over the strip
    qtbot.keyClick(window, Qt.Key.Key_G)
    count = len(window.session.stylizer.styles)
    qtbot.waitUntil(lambda: len(window.thumbnails) == count, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # paused: the thumbnails hold still
    QApplication.processEvents()
    shot = to_bgr(window.grab().toImage())
    layout = window.strip_layout()
    pictures = {i: shown.thumbnail.image for i, shown in window.thumbnails.items()}
    for index in range(count):
        box = layout.picture(index).toAlignedRect().adjusted(2, 2, -2, -2)
        crop = shot[box.top() : box.bottom() + 1, box.left() : box.right() + 1]
        size = (crop.shape[1], crop.shape[0])
        diffs = {i: mean_diff(crop, cv2.resize(p, size)) for i, p in pictures.items()}
        # Scaled by Qt and by OpenCV the same picture differs a little; another style a lot.
        assert min(diffs, key=diffs.get) == index and diffs[index] < 20, (index, diffs)

    # The current style is framed in yellow (BGR 60, 210, 255), the others are not.
    def frame_pixels(index: int) -> np.ndarray:
        cell = layout.cells[index].toAlignedRect()
        return shot[cell.top() - 2, cell.left() + 4 : cell.right() - 4]

    yellow = np.array([60, 210, 255])
    assert np.abs(frame_pixels(window.session.stylizer.index).astype(int) - yellow).max() < 40
    assert np.abs(frame_pixels(1).astype(int) - yellow).max() > 100


def test_a_click_on_a_thumbnail_picks_its_style(qtbot, window: LiveWindow) -> None:
    stylizer = window.session.stylizer
    qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=window.rect().center())
    assert stylizer.index == 0
    qtbot.keyClick(window, Qt.Key.Key_G)
    cells = window.strip_layout().cells
    for index in (2, 1, 0, 2):
        qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=cells[index].center().toPoint())
        assert stylizer.index == index
    qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=window.rect().center())
    assert stylizer.index == 2  # the picture above the strip: not a thumbnail
    qtbot.mouseClick(window, Qt.MouseButton.RightButton, pos=cells[0].center().toPoint())
    assert stylizer.index == 2  # left clicks only
    qtbot.keyClick(window, Qt.Key.Key_G)
    qtbot.mouseClick(window, Qt.MouseButton.LeftButton, pos=cells[1].center().toPoint())
    assert stylizer.index == 2  # strip hidden: nothing to click
    qtbot.waitUntil(lambda: window.shown.frame.style == "gamma", timeout=WAIT_MS)


def test_digit_keys_still_pick_with_the_strip_shown(qtbot, window: LiveWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_G)
    qtbot.keyClick(window, Qt.Key.Key_2)
    assert window.session.stylizer.index == 1 and window.strip_visible
    qtbot.waitUntil(lambda: window.shown.frame.style == "beta", timeout=WAIT_MS)
