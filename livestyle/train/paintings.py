"""What a training run learns: one painting per style, with the metadata the app shows.

The paintings come from the command line (`--style-image` once per painting, names from
`--name` or the file names) or from a manifest: a JSON list of objects with "painting" (a
path, relative to --paintings-dir or the manifest's folder) and optionally "name", "title",
"artist", "year", "licence", "order", "style_weight" (that style's own weight, for
paintings whose texture buries the photo at the run's --style-weight) and "temporal_weight"
(that style's own, for the styles that flicker most at the run's --temporal-weight) and
"stroke_scale" (live, the network's input is divided by it: larger strokes on screen; a number,
or one per network variant, {"lite": 1, "standard": 1.5}, where the two networks' marks read
best at different sizes; a variant left out gets 1) and "marks" (the style's marks made that
much bolder before the user's --marks adds to it, livestyle.brushwork; a number or one per
variant, as "stroke_scale"; a variant left out gets 0) and "ink" (dark lines and fuller colour,
livestyle.ink; from 0 to 1, per variant alike) and "colour" (fuller colour and contrast beyond
ink's, livestyle.ink; from 0 to 1, per variant alike) and "dots" (the picture rebuilt from dots
of colour, livestyle.dots; from 0 to 1, per variant alike).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livestyle.core.errors import LivestyleError
from livestyle.model import VARIANTS
from livestyle.weights import stroke_scale, style_colour, style_dots, style_ink, style_marks

MANIFEST_KEYS = {
    "painting",
    "name",
    "title",
    "artist",
    "year",
    "licence",
    "order",
    "style_weight",
    "temporal_weight",
    "stroke_scale",
    "marks",
    "ink",
    "colour",
    "dots",
}


@dataclass(frozen=True)
class Painting:
    """One style to learn: the painting file, the style's name and what the app shows."""

    path: Path
    name: str
    title: str = ""
    artist: str = ""
    year: str = ""
    licence: str = ""
    order: int = 1000
    style_weight: float | None = None  # None: the run's --style-weight
    temporal_weight: float | None = None  # None: the run's --temporal-weight
    stroke_scale: float = 1.0  # StyleInfo.stroke_scale, for every variant not listed below
    variant_stroke_scales: tuple[tuple[str, float], ...] = ()  # (("lite", 1.0),): its own
    marks: float = 0.0  # StyleInfo.marks, for every variant not listed below
    variant_marks: tuple[tuple[str, float], ...] = ()
    ink: float = 0.0  # StyleInfo.ink, for every variant not listed below
    variant_ink: tuple[tuple[str, float], ...] = ()
    colour: float = 0.0  # StyleInfo.colour, for every variant not listed below
    variant_colour: tuple[tuple[str, float], ...] = ()
    dots: float = 0.0  # StyleInfo.dots, for every variant not listed below
    variant_dots: tuple[tuple[str, float], ...] = ()

    def stroke_scale_for(self, variant: str) -> float:
        """The stroke scale of this painting's style in a network of `variant`."""
        return self._for("stroke_scale", variant)

    def marks_for(self, variant: str) -> float:
        """How much bolder this painting's style paints its marks in a network of `variant`."""
        return self._for("marks", variant)

    def ink_for(self, variant: str) -> float:
        """How much ink (livestyle.ink) this painting's style takes in a network of `variant`."""
        return self._for("ink", variant)

    def colour_for(self, variant: str) -> float:
        """This painting's style's own colour gain (livestyle.ink) in a network of `variant`."""
        return self._for("colour", variant)

    def dots_for(self, variant: str) -> float:
        """How much of this painting's style is laid as dots (livestyle.dots) in a network of
        `variant`."""
        return self._for("dots", variant)

    def _for(self, key: str, variant: str) -> float:
        """A manifest's per-variant `key` (PER_VARIANT_FIELDS) for a network of `variant`."""
        one, per_variant = PER_VARIANT_FIELDS[key]
        return dict(getattr(self, per_variant)).get(variant, getattr(self, one))


def paintings_from_options(options: Mapping[str, Any]) -> list[Painting]:
    """The run's paintings, from `livestyle train`'s options by name (`vars(args)`): from
    --manifest or from --style-image/--name and the metadata options (which describe the
    painting of a single-style run)."""
    if options["manifest"]:
        return read_manifest(Path(options["manifest"]), options["paintings_dir"])
    images = [Path(p) for p in options["style_image"] or []]
    if not images:
        raise LivestyleError("give the painting(s): --style-image PATH (or --manifest FILE)")
    given = options["name"]
    names = [n.strip() for n in given] if given else [p.stem for p in images]
    if len(names) != len(images):
        raise LivestyleError(
            f"{len(images)} --style-image but {len(names)} --name: give one name per painting"
        )
    licence, order = options["licence"], options["order"]
    if len(images) == 1:
        about = (options["title"], options["artist"], options["year"], licence, order)
        return [Painting(images[0], names[0], *about)]
    return [
        Painting(path, name, licence=licence, order=order + i)
        for i, (path, name) in enumerate(zip(images, names, strict=True))
    ]


def read_manifest(
    path: Path, paintings_dir: str | None = None, check_files: bool = True
) -> list[Painting]:
    """The paintings a manifest lists; a one-line error for anything malformed (and, with
    `check_files`, for a painting file that is not there)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LivestyleError(f"--manifest {path}: no such file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LivestyleError(f"--manifest {path}: not a readable JSON file ({exc})") from exc
    if not isinstance(entries, list) or not entries:
        raise LivestyleError(f"--manifest {path}: expected a non-empty JSON list of paintings")
    folder = Path(paintings_dir) if paintings_dir else path.parent
    paintings = [
        _painting(entry, folder, f"--manifest {path}, item {i + 1}")
        for i, entry in enumerate(entries)
    ]
    check_paintings(paintings)  # what the manifest says first, then whether the files are there
    if check_files:
        check_painting_files(paintings, path, folder)
    return paintings


def _painting(entry: object, folder: Path, where: str) -> Painting:
    if not isinstance(entry, dict) or not isinstance(entry.get("painting"), str):
        raise LivestyleError(f'{where}: needs a "painting" file name')
    unknown = set(entry) - MANIFEST_KEYS
    if unknown:
        raise LivestyleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    painting = folder / entry["painting"]
    try:
        weight, temporal = entry.get("style_weight"), entry.get("temporal_weight")
        return Painting(
            path=painting,
            name=str(entry.get("name") or painting.stem).strip(),
            title=str(entry.get("title", "")),
            artist=str(entry.get("artist", "")),
            year=str(entry.get("year", "")),
            licence=str(entry.get("licence", "")),
            order=int(entry.get("order", 1000)),
            style_weight=None if weight is None else float(weight),
            temporal_weight=None if temporal is None else float(temporal),
            **_per_variant("stroke_scale", entry.get("stroke_scale", 1.0), stroke_scale),
            **_per_variant("marks", entry.get("marks", 0.0), style_marks),
            **_per_variant("ink", entry.get("ink", 0.0), style_ink),
            **_per_variant("colour", entry.get("colour", 0.0), style_colour),
            **_per_variant("dots", entry.get("dots", 0.0), style_dots),
        )
    except (TypeError, ValueError) as exc:
        raise LivestyleError(f"{where}: {exc}") from exc


# A manifest's per-variant keys: the Painting field for one number, the one for a number per
# variant.
PER_VARIANT_FIELDS = {
    "stroke_scale": ("stroke_scale", "variant_stroke_scales"),
    "marks": ("marks", "variant_marks"),
    "ink": ("ink", "variant_ink"),
    "colour": ("colour", "variant_colour"),
    "dots": ("dots", "variant_dots"),
}


def _per_variant(key: str, value: object, checked: Callable[[object], float]) -> dict[str, Any]:
    """A painting's fields for a manifest's `key` (PER_VARIANT_FIELDS): a number, or a number
    per network variant (the variants left out get the default)."""
    one, per_variant = PER_VARIANT_FIELDS[key]
    if not isinstance(value, dict):
        return {one: checked(value)}
    unknown = sorted(set(value) - set(VARIANTS))
    if unknown:
        raise ValueError(f"{key} names no variant {unknown[0]!r} (only {', '.join(VARIANTS)})")
    return {per_variant: tuple((k, checked(v)) for k, v in sorted(value.items()))}


def check_painting_files(paintings: list[Painting], manifest: Path, folder: Path) -> None:
    """Every painting a manifest lists is a file: checked when the manifest is read, not when
    training reaches it, and with what to do (the paintings are often kept elsewhere)."""
    missing = [p.path for p in paintings if not p.path.is_file()]
    if not missing:
        return
    first = missing[0]
    where = f" in {folder.absolute()}" if first.is_relative_to(folder) else ""
    name = first.relative_to(folder) if where else first
    which = (
        f"painting '{name}'"
        if len(missing) == 1
        else f"{len(missing)} of {len(paintings)} paintings, the first '{name}',"
    )
    raise LivestyleError(
        f"--manifest {manifest}: {which} not found{where} (give the folder that holds the "
        "paintings with --paintings-dir)"
    )


def check_paintings(paintings: list[Painting]) -> None:
    """Names unique and non-empty, weights sane: checked before any slow work."""
    names = [p.name for p in paintings]
    if any(not name for name in names):
        raise LivestyleError("every style needs a non-empty name")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LivestyleError(f"two paintings share the style name {duplicates[0]!r}")
    for p in paintings:
        for key in ("style_weight", "temporal_weight"):
            value = getattr(p, key)
            if value is not None and not 0 <= value < float("inf"):
                raise LivestyleError(f"{p.name}: {key} must be >= 0, not {value}")
