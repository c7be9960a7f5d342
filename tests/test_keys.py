"""The key table: one binding per key, each making one call; the help and README come from it."""

from __future__ import annotations

import re
from pathlib import Path
from unittest.mock import Mock, call, create_autospec

import pytest
from PyQt6.QtCore import Qt

from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession
from livestyle.stylizer import Stylizer
from livestyle.ui.keys import KEYS, KeyBinding, bindings_by_key, help_rows
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource

README = Path(__file__).resolve().parent.parent / "README.md"


def loose(label: str) -> str:
    """A key label with its spacing evened out: "→  /  N" and "→ / N" are the same."""
    return " ".join(label.split())


def readme_key_labels(text: str) -> set[str]:
    """The key labels of the `| key | does |` table under "## Using it"."""
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|(.*?)\|(.*?)\|\s*$", section, re.MULTILINE)
    assert rows and [c.strip() for c in rows[0]] == ["key", "does"], "no key table found"
    labels: set[str] = set()
    for keys, does in rows[2:]:  # after the header and its --- line
        assert does.strip(), f"README key row {keys.strip()!r} says nothing"
        labels.update(loose(label) for label in keys.split(","))  # "→ / N, ← / P"
    return labels


def test_readme_lists_exactly_the_table_keys() -> None:
    """A key added to (or dropped from) the table must be added to (dropped from) the README."""
    table = {loose(label) for label, _ in help_rows()}
    readme = readme_key_labels(README.read_text())
    assert table - readme == set(), "keys missing from the README's key table"
    assert readme - table == set(), "keys in the README's key table that do nothing"


def test_readme_table_parser_sees_a_missing_key() -> None:
    text = README.read_text()
    assert "| F | full screen |" in text
    assert "F" not in readme_key_labels(text.replace("| F | full screen |\n", ""))


def test_help_has_one_line_per_label_in_table_order() -> None:
    rows = help_rows()
    assert [label for label, _ in rows][:3] == ["→  /  N", "←  /  P", "1 … 9"]
    assert ("+  /  −", "strength up / down 10%") in rows
    assert len(rows) == len({binding.label for binding in KEYS})


def test_table_mistakes_are_refused() -> None:
    def fullscreen(window) -> None:
        window.toggle_fullscreen()

    def help(window) -> None:
        window.toggle_help()

    twice = (
        KeyBinding((Qt.Key.Key_F,), "F", "full screen", fullscreen),
        KeyBinding((Qt.Key.Key_F,), "F2", "also F", help),
    )
    with pytest.raises(ValueError, match="Key_F is bound twice"):
        bindings_by_key(twice)
    two_texts = (
        KeyBinding((Qt.Key.Key_F,), "F", "full screen", fullscreen),
        KeyBinding((Qt.Key.Key_G,), "F", "something else", help),
    )
    with pytest.raises(ValueError, match="two help texts"):
        help_rows(two_texts)
    assert len(bindings_by_key()) == sum(len(binding.keys) for binding in KEYS)


# What the window itself does on a key (everything else is a call to its live session).
WINDOW_SWITCHES = (
    "toggle_strip",
    "save_snapshot",
    "toggle_fullscreen",
    "toggle_overlay",
    "toggle_help",
    "close",
)


def test_every_key_makes_its_one_call(qtbot, stylizer: Stylizer, tmp_path: Path) -> None:
    """Each key of the table makes exactly one call, to the session or to one of the window's
    switches: the same call for every key of a binding, another for every other binding."""
    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer, out_dir=tmp_path)
    window = LiveWindow(LiveSession(pipeline, out_dir=tmp_path), size=(320, 240))
    qtbot.addWidget(window)  # not started: no threads, the calls are only recorded
    calls = Mock()
    # A stand-in with the session's methods and signatures: a call it lacks fails.
    calls.attach_mock(create_autospec(LiveSession, instance=True), "session")
    window.session = calls.session
    for name in WINDOW_SWITCHES:
        assert callable(getattr(window, name)), f"LiveWindow has no {name}()"
        setattr(window, name, getattr(calls.window, name))
    made: dict[KeyBinding, object] = {}
    for binding in KEYS:
        for key in binding.keys:
            calls.reset_mock()
            qtbot.keyClick(window, key)
            assert len(calls.mock_calls) == 1, (key.name, calls.mock_calls)
            assert made.setdefault(binding, calls.mock_calls[0]) == calls.mock_calls[0], key.name
    assert len(set(map(str, made.values()))) == len(KEYS)  # no two bindings do the same
    assert made[KEYS[0]] == call.session.next_style()
    calls.reset_mock()
    qtbot.keyClick(window, Qt.Key.Key_J)  # not in the table: nothing runs
    assert calls.mock_calls == []
