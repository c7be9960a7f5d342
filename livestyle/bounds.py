"""Bounds that the command-line options share with the saved settings (livestyle.presets).

One place says what a strength or a network size may be, and what the message says when a
value is out of bounds. No argparse here: commands/options.py turns OutOfBounds into the
argparse error, presets.py into a warning.
"""

from __future__ import annotations

from livestyle.brushwork import MAX_MARKS
from livestyle.model import MIN_INPUT_SIDE

# Upper bound that catches typos (an extra zero) before they allocate gigabytes.
MAX_PIXELS_SIDE = 16384


class OutOfBounds(ValueError):
    """A value that parses as a number but lies outside its bounds; the message says which."""


def positive_whole(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise OutOfBounds(f"must be a positive integer, got {text}")
    return value


def pixel_side(text: str) -> int:
    value = positive_whole(text)
    if value > MAX_PIXELS_SIDE:
        raise OutOfBounds(f"must be at most {MAX_PIXELS_SIDE} pixels, got {text}")
    return value


def network_side(text: str) -> int:
    """--infer-size: the network's smallest input (reflection padding) up to MAX_PIXELS_SIDE."""
    value = pixel_side(text)
    if value < MIN_INPUT_SIDE:
        raise OutOfBounds(
            f"must be at least {MIN_INPUT_SIDE} pixels, the network's smallest input, got {text}"
        )
    return value


def unit_interval(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise OutOfBounds(f"must be between 0 and 1, got {text}")
    return value


def marks_amount(text: str) -> float:
    """--marks and its saved setting: how much bolder the marks are (livestyle.brushwork)."""
    value = float(text)
    if not 0.0 <= value <= MAX_MARKS:  # also refuses nan
        raise OutOfBounds(f"must be between 0 and {MAX_MARKS:g}, got {text}")
    return value
