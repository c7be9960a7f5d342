"""Style weights: `.safetensors` files with their metadata, and the folders they live in.

A style file holds the transformer network's tensors (stored in half precision to keep
the shipped styles small) and string metadata: the style's name, the painting, its licence, the
network config and the training settings. Nothing here unpickles anything.

A multi-style file (format version 2) holds one network with conditional instance norms:
its norm tensors have a row per style, and the metadata's "styles" is the list of the
styles' own metadata, in row order. Loading gives one single-style view per style, the views
sharing the network's convolutions (livestyle.model.style_views).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from livestyle.bounds import OutOfBounds, marks_amount
from livestyle.core.errors import WeightsError
from livestyle.core.outputs import replaced_whole
from livestyle.dots import MAX_DOTS
from livestyle.ink import MAX_COLOUR, MAX_INK
from livestyle.model import NetConfig, TransformerNet, style_views, variant_name

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
# Multi-style files; single-style files keep writing version 1, which every release reads.
MULTI_FORMAT_VERSION = "2"
# Far beyond any real multi-style network; a claim of more is a corrupt or hostile file.
MAX_STYLES_PER_FILE = 1024
SUFFIX = ".safetensors"
# Metadata every shipped style must carry (the tests check the shipped styles against this).
REQUIRED_METADATA = ("name", "title", "artist", "year", "licence")

# Far beyond any real network; a file claiming more would take minutes just to build it.
MAX_WIDTH = 4096
MAX_RES_BLOCKS = 64

# Package data folder of the shipped styles (pyproject.toml puts its .safetensors in the wheel).
SHIPPED_STYLES = "shipped_styles"


# A stem's most bytes: NAME.standard.safetensors.tmp and the like stay far under the 255 bytes
# of a file name most file systems allow.
MAX_STEM_BYTES = 120
# Windows opens a device, not a file, under these names whatever follows the first dot.
DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"{d}{i}" for d in ("com", "lpt") for i in range(10))}


def file_stem(name: str, fallback: str = "style") -> str:
    """A style name as a file name: what is not a letter, digit, '.', '-' or '_' becomes '_'.

    Names come from files and manifests, so the result must stay in its folder: it has no
    separator, never starts or ends with a dot (no '..'), is short, and is no Windows device.
    """
    stem = re.sub(r"[^\w.-]+", "_", name.strip()).strip("._")
    stem = stem.encode()[:MAX_STEM_BYTES].decode(errors="ignore").strip("._") or fallback
    return f"_{stem}" if stem.split(".")[0].lower() in DEVICE_NAMES else stem


# Stroke scale bounds (a style's own and --stroke-scale): beyond them the network's input
# leaves sensible sizes.
STROKE_SCALES = (0.25, 4.0)


def _bounded(field: str, value: object, low: float, high: float) -> float:
    """`value` from metadata or a manifest as a number from `low` to `high`; the error names
    the field (nan is refused too)."""
    number = float(value)  # type: ignore[arg-type]
    if not low <= number <= high:
        raise ValueError(f"{field} must be between {low:g} and {high:g}, not {value}")
    return number


def stroke_scale(value: object) -> float:
    """A stroke scale from metadata or a manifest, checked against STROKE_SCALES."""
    return _bounded("stroke_scale", value, *STROKE_SCALES)


def style_ink(value: object) -> float:
    """A style's ink (StyleInfo.ink, livestyle.ink) from metadata or a manifest: 0 to
    MAX_INK."""
    return _bounded("ink", value, 0.0, MAX_INK)


def style_colour(value: object) -> float:
    """A style's own colour gain (StyleInfo.colour, livestyle.ink) from metadata or a
    manifest: 0 to MAX_COLOUR."""
    return _bounded("colour", value, 0.0, MAX_COLOUR)


def style_dots(value: object) -> float:
    """A style's dots (StyleInfo.dots, livestyle.dots) from metadata or a manifest: 0 to
    MAX_DOTS."""
    return _bounded("dots", value, 0.0, MAX_DOTS)


def style_marks(value: object) -> float:
    """A style's own bolder-marks amount (StyleInfo.marks) from metadata or a manifest, in
    --marks's bounds; the error names the field."""
    try:
        return marks_amount(str(value))
    except OutOfBounds as exc:
        raise ValueError(f"marks {exc}") from exc


@dataclass
class StyleInfo:
    """Metadata of one style file."""

    name: str
    config: NetConfig
    title: str = ""
    artist: str = ""
    year: str = ""
    licence: str = ""
    # Lower numbers come first in the app's key order (1-9).
    order: int = 1000
    # Live, the network's input is divided by it: above 1 the painting's strokes come out
    # larger on screen (chosen per painting so its brushwork reads at 640x480).
    stroke_scale: float = 1.0
    # Its marks made this much bolder before the user's own --marks / key B add theirs
    # (livestyle.brushwork): for a painting whose strokes read only when crisp.
    marks: float = 0.0
    # Dark lines on its edges and fuller colour (livestyle.ink), for a painting drawn in lines.
    ink: float = 0.0
    # Fuller colour and contrast beyond ink's (livestyle.ink), for a painting whose colours
    # its network paints paler than the painting.
    colour: float = 0.0
    # The picture rebuilt from dots of colour (livestyle.dots), for a painting made of them.
    dots: float = 0.0
    training: dict = field(default_factory=dict)
    path: Path | None = None
    # Row of this style in a multi-style file; None for a single-style file.
    index: int | None = None

    @property
    def variant(self) -> str:
        return variant_name(self.config)

    def to_metadata(self) -> dict[str, str]:
        return {
            "format": "livestyle",
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "title": self.title,
            "artist": self.artist,
            "year": self.year,
            "licence": self.licence,
            "order": str(self.order),
            "stroke_scale": f"{self.stroke_scale:g}",
            "marks": f"{self.marks:g}",
            "ink": f"{self.ink:g}",
            "colour": f"{self.colour:g}",
            "dots": f"{self.dots:g}",
            "config": json.dumps(self.config.to_dict()),
            "training": json.dumps(self.training, sort_keys=True),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str], path: Path | None = None) -> StyleInfo:
        if "name" not in meta or "config" not in meta:
            raise ValueError("metadata lacks 'name' or 'config'")
        config = checked_config(meta)
        return cls(
            name=meta["name"],
            config=config,
            title=meta.get("title", ""),
            artist=meta.get("artist", ""),
            year=meta.get("year", ""),
            licence=meta.get("licence", ""),
            order=int(meta.get("order", "1000")),
            stroke_scale=stroke_scale(meta.get("stroke_scale", "1")),
            marks=style_marks(meta.get("marks", "0")),
            ink=style_ink(meta.get("ink", "0")),
            colour=style_colour(meta.get("colour", "0")),
            dots=style_dots(meta.get("dots", "0")),
            training=json.loads(meta.get("training") or "{}"),
            path=path,
        )

    def entry(self) -> dict:
        """This style's own metadata, as one item of a multi-style file's "styles" list."""
        return {
            "name": self.name,
            "title": self.title,
            "artist": self.artist,
            "year": self.year,
            "licence": self.licence,
            "order": self.order,
            "stroke_scale": self.stroke_scale,
            "marks": self.marks,
            "ink": self.ink,
            "colour": self.colour,
            "dots": self.dots,
            "training": self.training,
        }

    @classmethod
    def from_entry(
        cls, entry: object, config: NetConfig, path: Path | None, index: int
    ) -> StyleInfo:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"style {index} of the file has no name")
        training = entry.get("training") or {}
        if not isinstance(training, dict):
            raise ValueError(f"style {index}: 'training' is not a mapping")
        return cls(
            name=entry["name"],
            config=config,
            title=str(entry.get("title", "")),
            artist=str(entry.get("artist", "")),
            year=str(entry.get("year", "")),
            licence=str(entry.get("licence", "")),
            order=int(entry.get("order", 1000)),
            stroke_scale=stroke_scale(entry.get("stroke_scale", 1.0)),
            marks=style_marks(entry.get("marks", 0.0)),
            ink=style_ink(entry.get("ink", 0.0)),
            colour=style_colour(entry.get("colour", 0.0)),
            dots=style_dots(entry.get("dots", 0.0)),
            training=training,
            path=path,
            index=index,
        )

    def describe(self) -> str:
        painting = ", ".join(p for p in (self.title, self.artist, self.year) if p)
        return f"{self.name} ({painting})" if painting else self.name


def checked_config(meta: dict[str, str]) -> NetConfig:
    """The network config of a file's metadata, refusing foreign files and absurd sizes."""
    if meta.get("format") != "livestyle":
        raise ValueError("not a livestyle style file (metadata 'format' is missing)")
    config = NetConfig.from_dict(json.loads(meta.get("config", "null")))
    if max(config.widths) > MAX_WIDTH or config.res_blocks > MAX_RES_BLOCKS:
        raise ValueError(f"implausible network config {config.to_dict()}")
    return config


def _write_network(path: str | Path, model: TransformerNet, metadata: dict[str, str]) -> Path:
    """The model's tensors in half precision with `metadata`, written aside and renamed."""
    path = Path(path)
    tensors = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()
    }
    # Never a half-written style where the app looks, even after a full disk.
    with replaced_whole(path, failures=(SafetensorError, OSError)) as temporary:
        save_file(tensors, str(temporary), metadata=metadata)
    return path


def save_style(path: str | Path, model: TransformerNet, info: StyleInfo) -> Path:
    """Write a single-style model and its metadata; tensors are stored in half precision."""
    return _write_network(path, model, info.to_metadata())


def save_network(
    path: str | Path, model: TransformerNet, infos: list[StyleInfo], training: dict
) -> Path:
    """Write a multi-style network: its tensors, and every style's metadata in row order."""
    if model.styles != len(infos):
        raise ValueError(f"{len(infos)} style infos for a network of {model.styles} styles")
    names = [info.name for info in infos]
    if len(set(names)) != len(names):
        raise ValueError(f"style names must be unique in one file: {names}")
    metadata = {
        "format": "livestyle",
        "format_version": MULTI_FORMAT_VERSION,
        "config": json.dumps(model.config.to_dict()),
        "styles": json.dumps([info.entry() for info in infos], sort_keys=True),
        "training": json.dumps(training, sort_keys=True),
    }
    return _write_network(path, model, metadata)


def _infos_from_metadata(meta: dict[str, str], path: Path) -> list[StyleInfo]:
    if "styles" not in meta:
        return [StyleInfo.from_metadata(meta, path)]
    config = checked_config(meta)
    entries = json.loads(meta["styles"])
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_STYLES_PER_FILE:
        raise ValueError("'styles' is not a list of 1 to 1024 styles")
    infos = [StyleInfo.from_entry(e, config, path, i) for i, e in enumerate(entries)]
    names = [info.name for info in infos]
    if len(set(names)) != len(names):
        raise ValueError("two styles of the file have the same name")
    return infos


def read_style_infos(path: str | Path) -> list[StyleInfo]:
    """The metadata of every style in a file, refusing a file that would not load: its
    tensors' names and shapes are checked against its network config. Cheap: only the header
    is read, no tensor (safe_open itself refuses a file whose data section is not the size
    the header says: one cut short, or with bytes appended)."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            names = f.keys()  # a safe_open handle is not iterable itself
            shapes = {key: tuple(f.get_slice(key).get_shape()) for key in names}
        infos = _infos_from_metadata(meta, path)
    except FileNotFoundError as exc:
        raise WeightsError(f"{path}: no such weights file") from exc
    # Metadata is untrusted JSON: a list for the config (TypeError, AttributeError), Infinity
    # for a width (OverflowError), nesting deep enough to exhaust the parser (RecursionError).
    except (
        SafetensorError,
        ValueError,
        OSError,
        TypeError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise WeightsError(f"{path}: not a valid livestyle weights file ({_short(exc)})") from exc
    check_tensors(path, shapes, infos)
    return infos


def check_tensors(path: Path, shapes: dict[str, tuple[int, ...]], infos: list[StyleInfo]) -> None:
    """The tensors' names and shapes must be those of the network the metadata describes."""
    info = infos[0]
    styles = len(infos) if info.index is not None else 0
    # On the meta device: a config claiming huge widths allocates nothing.
    with torch.device("meta"):
        expected = TransformerNet(info.config, styles).state_dict()
    missing = sorted(set(expected) - set(shapes))
    unexpected = sorted(set(shapes) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise WeightsError(
            f"{path}: tensors do not match a {info.variant} network "
            f"({len(missing)} missing, {len(unexpected)} unexpected; {detail})"
        )
    for key, ref in expected.items():
        if shapes[key] != tuple(ref.shape):
            raise WeightsError(
                f"{path}: tensor {key} has shape {shapes[key]}, "
                f"the {info.variant} network expects {tuple(ref.shape)}"
            )


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes, hex: what a grown network names its ancestors by."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_training(path: str | Path) -> dict:
    """A network file's own "training" metadata (how its body was trained, and what grew it);
    {} for an unreadable file (scan_styles warns about those once, elsewhere)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            training = json.loads((f.metadata() or {}).get("training") or "{}")
    except (SafetensorError, ValueError, OSError, RecursionError):
        return {}
    return training if isinstance(training, dict) else {}


def read_lineage(path: str | Path) -> list[str]:
    """The digests of the files a network was grown from by `train --add-to`, nearest first
    (its "training" metadata's "grown_from"); [] for a network trained from scratch or an
    unreadable file."""
    lineage = read_training(path).get("grown_from")
    if not isinstance(lineage, list):
        return []
    return [d for d in lineage if isinstance(d, str)]


def lineage_of(base: str | Path) -> list[str]:
    """What a network grown from `base` records as its "grown_from": base, then base's own."""
    return [file_digest(base), *read_lineage(base)]


def load_network(path: str | Path) -> tuple[TransformerNet, list[StyleInfo]]:
    """Load a style file's network (float32, CPU) and its styles' metadata, every tensor's
    name and shape checked against the config (read_style_infos); a multi-style file gives a
    multi-style net."""
    path = Path(path)
    infos = read_style_infos(path)
    info = infos[0]
    model = TransformerNet(info.config, len(infos) if info.index is not None else 0)
    try:
        tensors = load_file(str(path))
        model.load_state_dict({k: v.float() for k, v in tensors.items()})
    # RuntimeError: the file was replaced by another network since its header was checked.
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise WeightsError(f"{path}: cannot read tensors ({_short(exc)})") from exc
    model.eval()
    return model, infos


def load_style(path: str | Path, index: int = 0) -> tuple[TransformerNet, StyleInfo]:
    """One style of a file as a single-style float32 CPU network (views share a multi-style
    network's convolutions)."""
    model, infos = load_network(path)
    if not 0 <= index < len(infos):
        raise WeightsError(f"{path}: has {len(infos)} style(s), no style {index}")
    return style_views(model)[index], infos[index]


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
