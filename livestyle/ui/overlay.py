"""The heads-up overlay and the help box: what they say, and drawing them.

What the overlay says is a pure function of an OverlayState, a snapshot of plain values the
window takes from its live session each paint, so every line can be tested without a window
or a pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter

from livestyle.live.session import SessionState, ViewMode

# No stylized frame for this long (paused, source ended, a stall): the overlay shows 0 fps,
# not the rate of the last frames frozen at its last value.
STALE_FPS_SECONDS = 1.0
FULL_STRENGTH = 0.995  # at or above this the strength line hides (the rounding of 100%)

WHITE = QColor(255, 255, 255)
DIM = QColor(190, 190, 190)
YELLOW = QColor(255, 210, 60)
RED = QColor(255, 70, 70)
ORANGE = QColor(255, 160, 60)
GREEN = QColor(90, 220, 120)
# A dropped painting's training: its progress, its end, or why it cannot start.
TASK_COLOURS = {"progress": YELLOW, "done": GREEN, "error": RED, "info": WHITE}
# A toast: what a key did (white), or why it could not (orange, red), by the session's kind.
TOAST_COLOURS = {"info": WHITE, "warning": ORANGE, "error": RED}
BOX = QColor(0, 0, 0, 160)
HELP_BOX = QColor(0, 0, 0, 200)

Line = tuple[str, QColor]


@dataclass(frozen=True)
class OverlayState(SessionState):
    """What the overlay shows: the live session's state and what the window shows of it."""

    overlay_visible: bool = True
    help_visible: bool = False


def format_clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def live_fps(state: OverlayState) -> float:
    """The output rate now: 0 while paused or when frames stopped coming."""
    age = state.last_frame_age
    if state.paused or age is None or age > STALE_FPS_SECONDS:
        return 0.0
    return state.fps


def overlay_lines(state: OverlayState) -> list[Line]:
    """The heads-up lines and their colours: state first, then transient messages."""
    lines = state_lines(state) if state.overlay_visible else []
    return lines + message_lines(state)


def state_lines(state: OverlayState) -> list[Line]:
    key = f"{state.style_index + 1}" if state.style_index < 9 else "-"
    lines = [(f"[{key}] {state.style_name}", WHITE)]
    painting = ", ".join(p for p in state.painting if p)
    if painting:
        lines.append((painting, DIM))
    lines.append((speed_line(state), DIM))
    if state.strength < FULL_STRENGTH or state.strength_changed:
        lines.append(strength_line(state))
    if state.view is not ViewMode.STYLIZED:
        lines.append((f"view: {state.view.value}", WHITE))
    if state.preserve_color:
        lines.append(("colours: original", WHITE))
    if not state.steady:
        lines.append(("steady: off", WHITE))
    if state.paused:
        lines.append(("PAUSED", YELLOW))
    if state.recording_for is not None:
        lines.append((f"● REC {format_clock(state.recording_for)}", RED))
    if state.virtual_cam:
        lines.append(("● VCAM", GREEN))
    return lines


def speed_line(state: OverlayState) -> str:
    parts = [f"{live_fps(state):.1f} fps"]
    if state.latency_ms is not None:
        parts.append(f"latency {state.latency_ms:.0f} ms")
    if state.inference_ms is not None:
        parts.append(f"inference {state.inference_ms:.0f} ms")
    if state.net_long_side is not None:
        parts.append(f"net {state.net_long_side} px" + (" auto" if state.net_auto else ""))
    return "   ".join(parts)


def strength_line(state: OverlayState) -> Line:
    return f"strength {round(state.strength * 100)}%", WHITE


def message_lines(state: OverlayState) -> list[Line]:
    """What shows even with the overlay hidden: errors, status, saving, toasts."""
    lines: list[Line] = []
    if state.error is not None:
        lines.append((f"error: {state.error}", RED))
    elif state.ended:
        lines.append(("source ended (Q to quit)", YELLOW))
    if state.status:
        lines.append((state.status, ORANGE))
    if state.task is not None:
        text, kind = state.task
        lines.append((text, TASK_COLOURS.get(kind, WHITE)))
    lines.extend((f"saving {name}...", YELLOW) for name in state.saving)
    if not state.overlay_visible and state.strength_changed:
        lines.append(strength_line(state))  # with the overlay hidden, + / - still answer
    lines.extend((text, TOAST_COLOURS.get(kind, WHITE)) for text, kind in state.toasts)
    if state.overlay_visible and not state.help_visible:
        lines.append(("H: help", DIM))
    return lines


# --- drawing ---
def text_font(base: QFont, window_height: int) -> QFont:
    """The overlay's font: grows with the window, readable when small, not huge when big."""
    font = QFont(base)
    font.setPixelSize(max(11, min(20, window_height // 36)))
    return font


def draw_overlay(painter: QPainter, lines: Sequence[Line]) -> QRectF:
    """The heads-up box at the top left, first line in bold; returns where it went."""
    regular = painter.font()
    bold = QFont(regular)
    bold.setBold(True)
    fonts = [bold] + [regular] * (len(lines) - 1)
    metrics = QFontMetrics(regular)
    pad = metrics.height() // 2
    step = metrics.lineSpacing()
    width = max(
        QFontMetrics(font).horizontalAdvance(text)
        for font, (text, _) in zip(fonts, lines, strict=True)
    )
    margin = 10
    box = QRectF(margin, margin, width + 2 * pad, step * len(lines) + 2 * pad)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BOX)
    painter.drawRoundedRect(box, 6, 6)
    y = margin + pad + metrics.ascent()
    for font, (text, color) in zip(fonts, lines, strict=True):
        painter.setFont(font)
        painter.setPen(color)
        painter.drawText(margin + pad, y, text)
        y += step
    painter.setFont(regular)
    return box


def draw_help(
    painter: QPainter, rows: Sequence[tuple[str, str]], area: QRectF, avoid: QRectF
) -> QRectF:
    """The "Keys" box of (key, text) rows, centred in area but clear of `avoid` (the overlay)
    when there is room; returns where it went."""
    metrics = QFontMetrics(painter.font())
    pad = metrics.height()
    step = metrics.lineSpacing()
    key_w = max(metrics.horizontalAdvance(key) for key, _ in rows) + pad
    text_w = max(metrics.horizontalAdvance(text) for _, text in rows)
    title_h = step + pad // 2
    box = QRectF(0, 0, key_w + text_w + 2 * pad, title_h + step * len(rows) + 2 * pad)
    box = place_clear_of(box, avoid, area)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(HELP_BOX)
    painter.drawRoundedRect(box, 8, 8)
    x, y = box.x() + pad, box.y() + pad + metrics.ascent()
    painter.setPen(WHITE)
    painter.drawText(round(x), round(y), "Keys")
    y += title_h
    for key, text in rows:
        painter.setPen(YELLOW)
        painter.drawText(round(x), round(y), key)
        painter.setPen(WHITE)
        painter.drawText(round(x + key_w), round(y), text)
        y += step
    return box


def place_clear_of(box: QRectF, avoid: QRectF, area: QRectF) -> QRectF:
    """box centred in area; else centred right of or below `avoid` when that is where it fits."""
    box = QRectF(box)
    box.moveCenter(area.center())
    if avoid.isEmpty() or not box.intersects(avoid):
        return box
    right = QRectF(avoid.right(), area.top(), area.right() - avoid.right(), area.height())
    below = QRectF(area.left(), avoid.bottom(), area.width(), area.bottom() - avoid.bottom())
    for space in (right, below):
        if space.width() >= box.width() and space.height() >= box.height():
            box.moveCenter(space.center())
            return box
    return box  # too small a window to avoid overlapping: the help wins, drawn on top
