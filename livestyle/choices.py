"""Choosing styles by the text --style takes (and the saved settings keep): a name, or a blend
of one network's styles `a:0.6,b:0.4`."""

from __future__ import annotations

from livestyle.core.errors import LivestyleError
from livestyle.stylizer import Stylizer


def parse_style_choice(text: str) -> list[tuple[str, float]]:
    """`name` or a blend `a:0.6,b:0.4` as (name, weight) pairs (a bare name weighs 1)."""
    pairs = []
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        try:
            value = float(weight) if weight else 1.0
        except ValueError:
            raise LivestyleError(f"--style {text}: '{weight}' is not a weight") from None
        if not name or not 0 <= value < float("inf"):
            raise LivestyleError(f"--style {text}: expected NAME or NAME:WEIGHT,NAME:WEIGHT")
        pairs.append((name, value))
    if sum(weight for _, weight in pairs) <= 0:
        raise LivestyleError(f"--style {text}: every weight is 0")
    return pairs


def choose_styles(stylizer: Stylizer, text: str) -> None:
    """Select the style --style names, or the blend it lists (one line for unknown names and
    for styles that cannot blend)."""
    pairs = parse_style_choice(text)
    indices = []
    for name, weight in pairs:
        try:
            indices.append((stylizer.find(name), weight))
        except KeyError:
            names = ", ".join(s.info.name for s in stylizer.styles)
            raise LivestyleError(f"unknown style '{name}' (installed: {names})") from None
    if len(indices) > 1 and not stylizer.can_blend([i for i, _ in indices]):
        raise LivestyleError(
            f"--style {text}: only styles of one multi-style network blend "
            "(`livestyle styles` shows which file each style is in)"
        )
    stylizer.blend(indices, fade=False)  # the first frame shows it
