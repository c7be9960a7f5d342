"""The picture: BGR frames as QImages, fitted into the window, in one of three views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PyQt6.QtCore import QPointF, QRect, QRectF
from PyQt6.QtGui import QColor, QImage, QPainter, QPen

from livestyle.live.inference import StylizedFrame
from livestyle.live.session import ViewMode

DIVIDER = QColor(255, 255, 255, 220)  # the split line on screen
DIVIDER_BGR = (255, 255, 255)  # the split line in a snapshot


def bgr_to_qimage(array: np.ndarray) -> tuple[QImage, np.ndarray]:
    """A QImage over the array's own memory, and the array it uses (keep it alive with it).

    Decoded frames and the stylizer's output (engines.frames.output_to_bgr makes it
    contiguous) are wrapped as they are; only a strided array (a crop, a flip) is copied.
    """
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    image = QImage(array.data, width, height, array.strides[0], QImage.Format.Format_BGR888)
    return image, array


@dataclass
class ShownFrame:
    """The frame on screen: both pictures as arrays and as QImages over those arrays."""

    frame: StylizedFrame
    original: np.ndarray
    stylized: np.ndarray
    original_image: QImage
    stylized_image: QImage

    @classmethod
    def of(cls, frame: StylizedFrame) -> ShownFrame:
        original_image, original = bgr_to_qimage(frame.original)
        stylized_image, stylized = bgr_to_qimage(frame.stylized)
        return cls(frame, original, stylized, original_image, stylized_image)

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.stylized.shape[:2]
        return width, height


def fit_rect(width: int, height: int, area: QRect) -> QRectF:
    """The largest rectangle of the frame's aspect centred in area (letterbox/pillarbox)."""
    scale = min(area.width() / width, area.height() / height)
    w, h = width * scale, height * scale
    x = area.x() + (area.width() - w) / 2
    y = area.y() + (area.height() - h) / 2
    return QRectF(x, y, w, h)


def compose_split(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Left half original, right half stylized, with a thin divider: the split view's pixels."""
    out = np.array(stylized, copy=True, order="C")
    width = out.shape[1]
    half = width // 2
    out[:, :half] = original[:, :half]
    line = max(1, width // 320)
    out[:, max(0, half - line // 2) : half - line // 2 + line] = DIVIDER_BGR
    return out


def view_pixels(shown: ShownFrame, view: ViewMode) -> np.ndarray:
    """The BGR pixels a view shows, at frame resolution (what a snapshot saves)."""
    if view is ViewMode.ORIGINAL:
        return shown.original
    if view is ViewMode.SPLIT:
        return compose_split(shown.original, shown.stylized)
    return shown.stylized


def draw_frame(painter: QPainter, shown: ShownFrame, view: ViewMode, area: QRect) -> None:
    """The view, scaled to fit area. The split view is drawn from both images as they are,
    not composed per frame: at screen size the halves are only scaled, never copied."""
    width, height = shown.size
    target = fit_rect(width, height, area)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    if view is ViewMode.STYLIZED:
        painter.drawImage(target, shown.stylized_image)
        return
    if view is ViewMode.ORIGINAL:
        painter.drawImage(target, shown.original_image)
        return
    half = width // 2
    split_x = target.x() + target.width() * half / width
    left = QRectF(target.x(), target.y(), split_x - target.x(), target.height())
    right = QRectF(split_x, target.y(), target.right() - split_x, target.height())
    painter.drawImage(left, shown.original_image, QRectF(0, 0, half, height))
    painter.drawImage(right, shown.stylized_image, QRectF(half, 0, width - half, height))
    painter.setPen(QPen(DIVIDER, 2))
    painter.drawLine(QPointF(split_x, target.top()), QPointF(split_x, target.bottom()))
