"""The window's keys, in one table: what to press, what users read, what it does, what runs.

The window dispatches key presses from KEYS and the help overlay is made from it, so the
help cannot list a key that does nothing or miss one that does something. The README's key
table is checked against it by tests/test_keys.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt

STRENGTH_STEP = 0.1  # one + or − press


@dataclass(frozen=True)
class KeyBinding:
    """Keys that call one LiveWindow method with the same arguments.

    Bindings that share a label are one line of help ("+  /  −": two actions, one line).
    """

    keys: tuple[Qt.Key, ...]
    label: str  # as users see it in the help and the README ("→  /  N")
    does: str  # the help text
    action: str  # the name of the LiveWindow method to call
    args: tuple[int | float, ...] = ()


def _digit(n: int) -> Qt.Key:
    return Qt.Key(Qt.Key.Key_0.value + n)


_K = Qt.Key
_STRENGTH = ("+  /  −", f"strength up / down {STRENGTH_STEP:.0%}")

KEYS: tuple[KeyBinding, ...] = (
    KeyBinding((_K.Key_Right, _K.Key_N), "→  /  N", "next style", "step_style", (1,)),
    KeyBinding((_K.Key_Left, _K.Key_P), "←  /  P", "previous style", "step_style", (-1,)),
    *(
        KeyBinding((_digit(n),), "1 … 9", "pick a style", "pick_style", (n - 1,))
        for n in range(1, 10)
    ),
    KeyBinding((_K.Key_G,), "G", "style strip (a click picks a style)", "toggle_strip"),
    # = is + without Shift on most layouts.
    KeyBinding((_K.Key_Plus, _K.Key_Equal), *_STRENGTH, "change_strength", (STRENGTH_STEP,)),
    KeyBinding((_K.Key_Minus,), *_STRENGTH, "change_strength", (-STRENGTH_STEP,)),
    KeyBinding((_K.Key_O,), "O", "view: stylized, original, split", "cycle_view"),
    KeyBinding((_K.Key_C,), "C", "original colours on / off", "toggle_preserve_color"),
    KeyBinding((_K.Key_T,), "T", "steady video on / off", "toggle_steady"),
    KeyBinding((_K.Key_Space,), "Space", "pause / resume", "toggle_pause"),
    KeyBinding((_K.Key_S,), "S", "save a snapshot (PNG)", "save_snapshot"),
    KeyBinding((_K.Key_R,), "R", "start / stop recording", "toggle_recording"),
    KeyBinding((_K.Key_V,), "V", "virtual camera on / off", "toggle_virtual_cam"),
    KeyBinding((_K.Key_X,), "X", "cancel adding a dropped painting", "cancel_adding"),
    KeyBinding((_K.Key_F,), "F", "full screen", "toggle_fullscreen"),
    KeyBinding((_K.Key_Tab,), "Tab", "show / hide the overlay", "toggle_overlay"),
    KeyBinding((_K.Key_H,), "H", "show / hide this help", "toggle_help"),
    KeyBinding((_K.Key_Q, _K.Key_Escape), "Q  /  Esc", "quit", "close"),
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
