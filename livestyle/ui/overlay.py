"""The heads-up overlay and the help box: what they say, and drawing them.

What the overlay says is a pure function of an OverlayState, a snapshot of plain values the
window takes from its live session each paint, so every line can be tested without a window
or a pipeline. How its lines wrap to the window's width is one too, of the width and a
function that measures text (wrap_text), so the layout is tested without a font.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter

from livestyle.live.session import SessionState, ViewMode

# No stylized frame for this long (paused, source ended, a stall): the overlay shows 0 fps,
# not the rate of the last frames frozen at its last value.
STALE_FPS_SECONDS = 1.0
FULL_STRENGTH = 0.995  # at or above this the strength line hides (the rounding of 100%)
BLEND_NAMED = 3  # a blend names its heaviest styles, then says how many more: one short line
FADE_SECONDS = 1.0  # a toast fades out over its last second rather than vanish mid-read
MARGIN = 10  # between the window's edge and the overlay's box, in pixels

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
Measure = Callable[[str], float]  # the width of a text as drawn (QFontMetrics.horizontalAdvance)
Row = tuple[str, QColor, QFont]  # one drawn row of the overlay: a line, or part of a wrapped one


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
    name = blend_text(state.blend) if len(state.blend) > 1 else state.style_name
    lines = [(f"[{key}] {name}", WHITE)]
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
    if state.marks > 0:
        lines.append((f"brushwork: +{state.marks:.0%}", WHITE))
    if not state.steady:
        lines.append(("steady: off", WHITE))
    if state.paused:
        lines.append(("PAUSED", YELLOW))
    if state.recording_for is not None:
        lines.append((f"● REC {format_clock(state.recording_for)}", RED))
    if state.audio:
        lines.append(("mic: on for recordings", DIM))
    if state.virtual_cam:
        lines.append(("● VCAM", GREEN))
    return lines


def blend_text(parts: Sequence[tuple[str, float]]) -> str:
    """A blend as "starry_night 60% + great_wave 40%": heaviest first, in whole percents that
    add up to 100, the first BLEND_NAMED named and the rest counted."""
    ranked = sorted(parts, key=lambda part: -part[1])
    shares = percentages([weight for _, weight in ranked])
    shown = zip(ranked[:BLEND_NAMED], shares[:BLEND_NAMED], strict=True)
    named = [f"{name} {share}%" for (name, _), share in shown]
    more = len(ranked) - BLEND_NAMED
    return " + ".join(named) + (f" + {more} more" if more > 0 else "")


def percentages(weights: Sequence[float]) -> list[int]:
    """Weights as whole percents adding up to 100 (largest remainders round up), so three
    equal styles read 34 + 33 + 33 rather than 33 + 33 + 33."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    exact = [100 * weight / total for weight in weights]
    shares = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])
    for i in by_remainder[: 100 - sum(shares)]:
        shares[i] += 1
    return shares


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
    lines.extend(toast_lines(state))
    if state.overlay_visible and not state.help_visible:
        lines.append(("H: help", DIM))
    return lines


def toast_lines(state: OverlayState) -> list[Line]:
    """The toasts in their kind's colour, fading over their last FADE_SECONDS; a toast with
    no time given (a state made by hand) shows in full."""
    count = len(state.toasts)
    left = (*state.toast_seconds_left, *[FADE_SECONDS] * count)[:count]
    return [
        (text, faded(TOAST_COLOURS.get(kind, WHITE), seconds))
        for (text, kind), seconds in zip(state.toasts, left, strict=True)
    ]


def faded(color: QColor, seconds_left: float) -> QColor:
    """The colour with its alpha ramped down as the last FADE_SECONDS run out."""
    opacity = min(1.0, max(0.0, seconds_left / FADE_SECONDS))
    if opacity >= 1.0:
        return color
    out = QColor(color)
    out.setAlphaF(color.alphaF() * opacity)
    return out


# --- layout: lines wrapped to the window's width ---
def wrap_text(text: str, width: float, measure: Measure) -> list[str]:
    """`text` in rows no wider than `width`: broken between words, and inside a word (a long
    path) only where that word alone is wider. Every row holds at least one character."""
    if measure(text) <= width:
        return [text]
    rows: list[str] = []
    row = ""
    for gap, word in re.findall(r"(\s*)(\S+)", text):
        joined = f"{row}{gap}{word}" if row else word
        if measure(joined) <= width:
            row = joined
            continue
        if row:
            rows.append(row)
        *whole, row = break_word(word, width, measure)
        rows.extend(whole)
    rows.append(row)
    return rows


def break_word(word: str, width: float, measure: Measure) -> list[str]:
    """`word` in pieces no wider than `width` (but at least one character each)."""
    pieces: list[str] = []
    while word:
        cut = 1
        while cut < len(word) and measure(word[: cut + 1]) <= width:
            cut += 1
        pieces.append(word[:cut])
        word = word[cut:]
    return pieces or [""]


def wrap_lines(
    lines: Sequence[Line], width: float, measure: Measure, measure_first: Measure | None = None
) -> list[list[Line]]:
    """Each line's rows, in its colour, no wider than `width`; `measure_first` measures the
    first line (drawn bold) when given."""
    measures = [measure_first or measure] + [measure] * (len(lines) - 1)
    return [
        [(row, color) for row in wrap_text(text, width, line_measure)]
        for (text, color), line_measure in zip(lines, measures, strict=True)
    ]


# --- drawing ---
def text_font(base: QFont, window_height: int) -> QFont:
    """The overlay's font: grows with the window, readable when small, not huge when big."""
    font = QFont(base)
    font.setPixelSize(max(11, min(20, window_height // 36)))
    return font


def box_padding(font: QFont) -> int:
    return QFontMetrics(font).height() // 2


def overlay_rows(lines: Sequence[Line], font: QFont, area_width: float) -> list[Row]:
    """The rows the overlay draws in a window `area_width` wide: each line wrapped so that
    the box, its padding and its margins fit, the first line's rows in bold."""
    bold = QFont(font)
    bold.setBold(True)
    room = max(1.0, area_width - 2 * (MARGIN + box_padding(font)))
    measure = QFontMetrics(font).horizontalAdvance
    groups = wrap_lines(lines, room, measure, QFontMetrics(bold).horizontalAdvance)
    return [
        (text, color, bold if i == 0 else font)
        for i, group in enumerate(groups)
        for text, color in group
    ]


def draw_overlay(painter: QPainter, lines: Sequence[Line], area_width: float) -> QRectF:
    """The heads-up box at the top left, first line in bold, its lines wrapped to fit a
    window `area_width` wide; returns where it went."""
    regular = painter.font()
    rows = overlay_rows(lines, regular, area_width)
    metrics = QFontMetrics(regular)
    pad = box_padding(regular)
    step = metrics.lineSpacing()
    width = max(QFontMetrics(font).horizontalAdvance(text) for text, _, font in rows)
    box = QRectF(MARGIN, MARGIN, width + 2 * pad, step * len(rows) + 2 * pad)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BOX)
    painter.drawRoundedRect(box, 6, 6)
    y = MARGIN + pad + metrics.ascent()
    for text, color, font in rows:
        painter.setFont(font)
        painter.setPen(color)
        painter.drawText(MARGIN + pad, y, text)
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
