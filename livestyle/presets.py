"""The live window's choices kept between runs: style, strength, view, colours, marks, network
size.

A small JSON file in the user's config folder, read when the live window starts and written
(to a temporary file, then renamed over the old one, so a crash never leaves half a file)
when it closes. Options given on the command line win over it. Nothing in it can stop the
app: a file that cannot be read, a value that makes no sense or a style no longer installed
is ignored with one warning line. Headless runs neither read nor write it, so scripts and
benchmarks get what their options say.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TypeVar

from livestyle.bounds import marks_amount, network_side, unit_interval
from livestyle.choices import choose_styles
from livestyle.config import LiveConfig
from livestyle.core.errors import LivestyleError, OutputError
from livestyle.core.outputs import replaced_whole
from livestyle.stylizer import Stylizer

log = logging.getLogger(__name__)

T = TypeVar("T")

SETTINGS_NAME = "settings.json"
# The window's view modes (livestyle.ui.frames.ViewMode's values; Qt is not imported here).
VIEWS = ("stylized", "original", "split")


@dataclass(frozen=True)
class Presets:
    """Saved choices; None: nothing saved, the option's own default applies."""

    style: str | None = None  # a style name, or a blend "a:0.6,b:0.4" as --style takes it
    strength: float | None = None
    view: str | None = None  # one of VIEWS
    preserve_color: bool | None = None
    infer_size: int | None = None  # --infer-size as last given
    marks: float | None = None  # key B / --marks


def settings_path() -> Path:
    """Where the settings live: $XDG_CONFIG_HOME/livestyle, else the platform's config folder."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec says a relative path must be ignored
        base = Path(xdg)
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path.home() / ".config"
    return base / "livestyle" / SETTINGS_NAME


def _style(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a style name")
    return value


def _number(value: object, bounded: Callable[[str], float]) -> float:
    """A JSON number within the bounds its option has (`bounded`, from livestyle.bounds)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    return bounded(str(value))


def _strength(value: object) -> float:
    return _number(value, unit_interval)  # the same bounds as --strength


def _view(value: object) -> str:
    if value not in VIEWS:
        raise ValueError(f"not one of {', '.join(VIEWS)}")
    return str(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not true or false")
    return value


def _marks(value: object) -> float:
    return _number(value, marks_amount)  # the same bounds as --marks


def _infer_size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a whole number of pixels")
    return network_side(str(value))  # the same bounds as --infer-size


_CHECKS = {
    "style": _style,
    "strength": _strength,
    "view": _view,
    "preserve_color": _flag,
    "marks": _marks,
    "infer_size": _infer_size,
}


def parse_presets(data: object) -> tuple[Presets, list[str]]:
    """The valid settings in decoded JSON, and what was wrong with the rest."""
    if not isinstance(data, dict):
        return Presets(), ["not a JSON object"]
    values, problems = {}, []
    for key, value in data.items():
        check = _CHECKS.get(key)
        if check is None:
            problems.append(f"unknown setting '{key}'")
        elif value is not None:
            try:
                values[key] = check(value)
            except ValueError as exc:  # bounds.OutOfBounds too
                problems.append(f"{key} {json.dumps(value)}: {exc}")
    return Presets(**values), problems


def load_presets(path: Path | None = None) -> Presets:
    """The saved settings; none when there are none. Never raises: what cannot be used is
    ignored with one warning line."""
    path = path or settings_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Presets()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("settings %s ignored: %s", path, getattr(exc, "strerror", None) or exc)
        return Presets()
    presets, problems = parse_presets(data)
    if problems:
        log.warning("settings %s: ignored %s", path, "; ".join(problems))
    return presets


def save_presets(presets: Presets, path: Path | None = None) -> bool:
    """Write the settings atomically; a failure is one warning line, never an error."""
    path = path or settings_path()
    text = json.dumps({k: v for k, v in asdict(presets).items() if v is not None}, indent=2)
    try:
        with replaced_whole(path) as temporary:
            temporary.write_text(text + "\n", encoding="utf-8")
    except OutputError as exc:
        log.warning("could not save settings: %s", exc)
        return False
    return True


def fill_options(config: LiveConfig, presets: Presets) -> LiveConfig:
    """A copy of `config` with the saved values for the options not given on the command
    line (those are None)."""
    options = config.style_options
    # Any option that sizes the network, given, outranks the saved size.
    sized = (options.infer_size, options.infer_scale, config.stroke_scale)
    size_given = any(option is not None for option in sized)
    filled = replace(
        options,
        strength=_given_or(options.strength, presets.strength),
        preserve_color=_given_or(options.preserve_color, presets.preserve_color),
        marks=_given_or(options.marks, presets.marks),
        infer_size=options.infer_size if size_given else presets.infer_size,
    )
    return replace(config, style_options=filled)


def _given_or(given: T | None, saved: T | None) -> T | None:
    return saved if given is None else given


def choose_saved_style(stylizer: Stylizer, presets: Presets) -> None:
    """Select the saved style (call only when --style was not given); one that is no longer
    installed, or a blend that no longer blends, is ignored with a warning."""
    if presets.style is None:
        return
    try:
        choose_styles(stylizer, presets.style)
    except LivestyleError as exc:
        log.warning("saved style '%s' ignored: %s", presets.style, exc)


def style_text(stylizer: Stylizer) -> str:
    """The chosen style as --style would take it: a name, or a blend a:0.6,b:0.4."""
    names = [(stylizer.styles[index].info.name, weight) for index, weight in stylizer.mix]
    if len(names) == 1:
        return names[0][0]
    return ",".join(f"{name}:{weight:.3g}" for name, weight in names)


def current_presets(stylizer: Stylizer, view: str, infer_size: int | None) -> Presets:
    """What to save at the end of a run. The network size is the one chosen (given, or
    saved before), not what out-of-memory may have shrunk it to."""
    return Presets(
        style=style_text(stylizer),
        strength=round(stylizer.strength, 3),
        view=view,
        preserve_color=stylizer.preserve_color,
        marks=stylizer.marks,
        infer_size=infer_size,
    )
