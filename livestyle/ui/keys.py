"""The window's keys, in one table: what to press, what users read, what it does, what runs.

The window dispatches key presses from KEYS and the help overlay is made from it, so the
help cannot list a key that does nothing or miss one that does something. Each binding
carries the call it makes: a key press runs `binding.action(window)`, which calls one method
of the live session or one of the window's own display switches. The README's key table is
checked against it by tests/test_keys.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PyQt6.QtCore import Qt

from livestyle.live.session import STRENGTH_STEP, LiveSession


class Controls(Protocol):
    """What a key reaches: the live session, and what only the window itself shows."""

    session: LiveSession

    def toggle_strip(self) -> None: ...
    def save_snapshot(self) -> object: ...
    def toggle_fullscreen(self) -> None: ...
    def toggle_overlay(self) -> None: ...
    def toggle_help(self) -> None: ...
    def close(self) -> bool: ...


Action = Callable[[Controls], object]


@dataclass(frozen=True)
class KeyBinding:
    """Keys that make one call.

    Bindings that share a label are one line of help ("+  /  −": two actions, one line).
    """

    keys: tuple[Qt.Key, ...]
    label: str  # as users see it in the help and the README ("→  /  N")
    does: str  # the help text
    action: Action  # called with the window


def _digit(n: int) -> Qt.Key:
    return Qt.Key(Qt.Key.Key_0.value + n)


_K = Qt.Key
_STRENGTH = ("+  /  −", f"strength up / down {STRENGTH_STEP:.0%}")

KEYS: tuple[KeyBinding, ...] = (
    KeyBinding((_K.Key_Right, _K.Key_N), "→  /  N", "next style", lambda w: w.session.next_style()),
    KeyBinding(
        (_K.Key_Left, _K.Key_P), "←  /  P", "previous style", lambda w: w.session.previous_style()
    ),
    *(
        KeyBinding(
            (_digit(n),), "1 … 9", "pick a style", lambda w, i=n - 1: w.session.pick_style(i)
        )
        for n in range(1, 10)
    ),
    KeyBinding((_K.Key_G,), "G", "style strip (a click picks a style)", lambda w: w.toggle_strip()),
    # = is + without Shift on most layouts.
    KeyBinding((_K.Key_Plus, _K.Key_Equal), *_STRENGTH, lambda w: w.session.strength_up()),
    KeyBinding((_K.Key_Minus,), *_STRENGTH, lambda w: w.session.strength_down()),
    KeyBinding(
        (_K.Key_O,), "O", "view: stylized, original, split", lambda w: w.session.cycle_view()
    ),
    KeyBinding(
        (_K.Key_C,), "C", "original colours on / off", lambda w: w.session.toggle_preserve_color()
    ),
    KeyBinding(
        (_K.Key_B,),
        "B",
        "brushwork: as painted, bolder, boldest",
        lambda w: w.session.cycle_marks(),
    ),
    KeyBinding((_K.Key_T,), "T", "steady video on / off", lambda w: w.session.toggle_steady()),
    KeyBinding((_K.Key_Space,), "Space", "pause / resume", lambda w: w.session.toggle_pause()),
    KeyBinding((_K.Key_S,), "S", "save a snapshot (PNG)", lambda w: w.save_snapshot()),
    KeyBinding((_K.Key_R,), "R", "start / stop recording", lambda w: w.session.toggle_recording()),
    KeyBinding(
        (_K.Key_M,),
        "M",
        "sound on / off for the next recording",
        lambda w: w.session.toggle_audio(),
    ),
    KeyBinding(
        (_K.Key_V,), "V", "virtual camera on / off", lambda w: w.session.toggle_virtual_cam()
    ),
    KeyBinding(
        (_K.Key_X,),
        "X",
        "cancel adding a dropped painting",
        lambda w: w.session.cancel_adding(),
    ),
    KeyBinding((_K.Key_F,), "F", "full screen", lambda w: w.toggle_fullscreen()),
    KeyBinding((_K.Key_Tab,), "Tab", "show / hide the overlay", lambda w: w.toggle_overlay()),
    KeyBinding((_K.Key_H,), "H", "show / hide this help", lambda w: w.toggle_help()),
    KeyBinding((_K.Key_Q, _K.Key_Escape), "Q  /  Esc", "quit", lambda w: w.close()),
)


def bindings_by_key(table: tuple[KeyBinding, ...] = KEYS) -> dict[int, KeyBinding]:
    """Qt key code (what QKeyEvent.key() returns) -> its binding; a key bound twice is a bug."""
    found: dict[int, KeyBinding] = {}
    for binding in table:
        for key in binding.keys:
            if key.value in found:
                raise ValueError(f"{key.name} is bound twice in the key table")
            found[key.value] = binding
    return found


def help_rows(table: tuple[KeyBinding, ...] = KEYS) -> list[tuple[str, str]]:
    """(label, text) per help line, in table order: one line per label."""
    rows: dict[str, str] = {}
    for binding in table:
        if rows.setdefault(binding.label, binding.does) != binding.does:
            raise ValueError(f"key {binding.label!r} has two help texts")
    return list(rows.items())
