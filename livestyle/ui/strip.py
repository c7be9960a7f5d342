"""The style strip (key G): every style as a small live picture along the bottom.

The thumbnails are made on the inference thread (livestyle.live.thumbnails) and cross to
the GUI through a ThumbnailBridge, as frames do through a FrameBridge (bridge.py). Here:
keeping them, where each one goes (the same layout draws and answers clicks, so a click
picks the style drawn under it), and drawing them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QObject, QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen

from livestyle.live.thumbnails import Thumbnail
from livestyle.ui.frames import bgr_to_qimage
from livestyle.ui.overlay import BOX, DIM, WHITE, YELLOW

MIN_CELL = 72  # narrowest thumbnail on screen: below it the strip takes another row
MAX_CELL = 160  # widest: thumbnails have THUMB_WIDTH pixels, larger would only show blur
MARGIN = 10  # from the window's edges
GAP = 6  # between thumbnails
EMPTY = QColor(40, 40, 40)  # a style whose thumbnail has not come yet
DIGIT_KEYS = 9  # keys 1-9 pick the first nine styles


class ThumbnailBridge(QObject):
    """Carries thumbnails from the inference thread to the GUI, one waiting per style.

    `submit` (any thread, never blocks) keeps the newest thumbnail of each style and emits
    `arrived` only when nothing was waiting; the GUI slot `take`s them all. A slow GUI thus
    loses old pictures of a style, never a style, and Qt's queue holds one event at most.
    """

    arrived = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: dict[int, Thumbnail] = {}
        self._closed = False
        self.submitted = 0

    def submit(self, thumbnail: Thumbnail) -> None:
        with self._lock:
            if self._closed:
                return
            self.submitted += 1
            signal = not self._pending
            self._pending[thumbnail.index] = thumbnail
        if signal:
            self.arrived.emit()

    def take(self) -> list[Thumbnail]:
        with self._lock:
            taken, self._pending = list(self._pending.values()), {}
            return taken

    def close(self) -> None:
        """Ignore late thumbnails: the window is going away."""
        with self._lock:
            self._closed = True
            self._pending = {}


@dataclass
class ShownThumbnail:
    """A thumbnail as the strip draws it: a QImage over the thumbnail's own pixels."""

    thumbnail: Thumbnail
    pixels: np.ndarray  # what the QImage reads: kept alive with it
    image: QImage

    @classmethod
    def of(cls, thumbnail: Thumbnail) -> ShownThumbnail:
        image, pixels = bgr_to_qimage(thumbnail.image)
        return cls(thumbnail, pixels, image)


@dataclass(frozen=True)
class StripLayout:
    """Where each style's cell (its picture over its label) goes, and the labels' font."""

    cells: list[QRectF]
    label_height: float
    font: QFont

    def picture(self, index: int) -> QRectF:
        cell = self.cells[index]
        return QRectF(cell.x(), cell.y(), cell.width(), cell.height() - self.label_height)


def label_font(base: QFont, window_height: int) -> QFont:
    """The labels' font: smaller than the overlay's, readable in a small window."""
    font = QFont(base)
    font.setPixelSize(max(9, min(14, window_height // 48)))
    return font


def layout_strip(count: int, area: QRectF, aspect: float, font: QFont) -> StripLayout:
    """Rows of cells centred along the bottom of `area`, as many per row as fit at MIN_CELL
    wide, each at most MAX_CELL wide. `aspect` is the pictures' height / width.

    The window lays the strip out the same way to draw it and to answer a click, so a click
    picks the style drawn under it."""
    label_height = QFontMetrics(font).height() + 2
    if count <= 0:
        return StripLayout([], label_height, font)
    usable = max(1.0, area.width() - 2 * MARGIN)
    columns = max(1, min(count, int((usable + GAP) // (MIN_CELL + GAP))))
    rows = math.ceil(count / columns)
    width = min(MAX_CELL, (usable - GAP * (columns - 1)) / columns)
    height = width * aspect + label_height
    top = area.bottom() - MARGIN - rows * height - (rows - 1) * GAP
    cells = []
    for i in range(count):
        row, column = divmod(i, columns)
        in_row = min(columns, count - row * columns)  # the last row may be shorter: centred
        left = area.center().x() - (in_row * width + (in_row - 1) * GAP) / 2
        x, y = left + column * (width + GAP), top + row * (height + GAP)
        cells.append(QRectF(x, y, width, height))
    return StripLayout(cells, label_height, font)


def cell_at(cells: Sequence[QRectF], point: QPointF) -> int | None:
    """The style whose cell holds `point` (a click), or None."""
    for index, cell in enumerate(cells):
        if cell.contains(point):
            return index
    return None


def cell_label(index: int, name: str) -> str:
    """A cell's label, "3 great_wave": the digit key that picks it, for the first nine."""
    return f"{index + 1} {name}" if index < DIGIT_KEYS else name


def draw_strip(
    painter: QPainter,
    layout: StripLayout,
    names: Sequence[str],
    shown: dict[int, ShownThumbnail],
    current: int,
) -> None:
    """Each style's picture (a dark box until it comes) over its label, on one dark box;
    the current style framed in yellow."""
    if not layout.cells:
        return
    painter.save()  # pens, brushes, font and hints go back as they were for the overlay
    try:
        draw_background(painter, layout.cells)
        painter.setFont(layout.font)
        for index, name in enumerate(names):
            draw_cell(painter, layout, index, name, shown.get(index), index == current)
    finally:
        painter.restore()


def draw_background(painter: QPainter, cells: Sequence[QRectF]) -> None:
    """One dark rounded box behind all the cells."""
    back = QRectF(cells[0])
    for cell in cells[1:]:
        back = back.united(cell)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BOX)
    painter.drawRoundedRect(back.adjusted(-GAP, -GAP, GAP, GAP), 6, 6)


def draw_cell(
    painter: QPainter,
    layout: StripLayout,
    index: int,
    name: str,
    thumbnail: ShownThumbnail | None,
    current: bool,
) -> None:
    """One style: its picture (a dark box until it comes), its label, a frame if current."""
    cell, picture = layout.cells[index], layout.picture(index)
    if thumbnail is None:
        painter.fillRect(picture, EMPTY)
    else:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(picture, thumbnail.image)
    metrics = QFontMetrics(painter.font())
    text = metrics.elidedText(
        cell_label(index, name), Qt.TextElideMode.ElideRight, int(cell.width())
    )
    painter.setPen(YELLOW if current else WHITE if thumbnail else DIM)
    label = QRectF(cell.x(), picture.bottom(), cell.width(), layout.label_height)
    painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)
    if current:
        painter.setPen(QPen(YELLOW, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(cell.adjusted(-2, -2, 2, 2))
