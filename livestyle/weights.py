"""Style weights: `.safetensors` files with their metadata, and the folders they live in.

A style file holds the transformer network's tensors (stored in half precision to keep
the shipped styles small) and string metadata: the style's name, the painting, its licence, the
network config and the training settings. Nothing here unpickles anything.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from livestyle.errors import WeightsError
from livestyle.model import NetConfig, TransformerNet, variant_name

log = logging.getLogger(__name__)

FORMAT_VERSION = "1"
SUFFIX = ".safetensors"
# Metadata every shipped style must carry (the tests check the shipped styles against this).
REQUIRED_METADATA = ("name", "title", "artist", "year", "licence")

# Far beyond any real network; a file claiming more would take minutes just to build it.
MAX_WIDTH = 4096
MAX_RES_BLOCKS = 64

# Package data folder of the shipped styles (pyproject.toml puts its .safetensors in the wheel).
SHIPPED_STYLES = "shipped_styles"


def shipped_styles_dir() -> Path:
    """The shipped styles, found through importlib.resources: a wheel install, an editable
    install and a checkout all resolve to the folder inside the installed package."""
    folder = resources.files(__package__).joinpath(SHIPPED_STYLES)
    # safetensors memory-maps real files, so the styles must be on disk, not inside a zip:
    # Path(str(...)) of a zip entry does not exist and the app says "no styles installed".
    return folder if isinstance(folder, Path) else Path(str(folder))


PACKAGE_WEIGHTS_DIR = shipped_styles_dir()


def user_styles_dir() -> Path:
    """Per-user styles folder, where `livestyle train` exports new styles."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "livestyle" / "styles"


def default_style_dirs() -> list[Path]:
    extra = os.environ.get("LIVESTYLE_STYLES_DIR")
    dirs = [Path(p) for p in extra.split(os.pathsep)] if extra else []
    return [*dirs, PACKAGE_WEIGHTS_DIR, user_styles_dir()]


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
    training: dict = field(default_factory=dict)
    path: Path | None = None

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
            "config": json.dumps(self.config.to_dict()),
            "training": json.dumps(self.training, sort_keys=True),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str], path: Path | None = None) -> StyleInfo:
        if meta.get("format") != "livestyle":
            raise ValueError("not a livestyle style file (metadata 'format' is missing)")
        if "name" not in meta or "config" not in meta:
            raise ValueError("metadata lacks 'name' or 'config'")
        config = NetConfig.from_dict(json.loads(meta["config"]))
        if max(config.widths) > MAX_WIDTH or config.res_blocks > MAX_RES_BLOCKS:
            raise ValueError(f"implausible network config {config.to_dict()}")
        return cls(
            name=meta["name"],
            config=config,
            title=meta.get("title", ""),
            artist=meta.get("artist", ""),
            year=meta.get("year", ""),
            licence=meta.get("licence", ""),
            order=int(meta.get("order", "1000")),
            training=json.loads(meta.get("training") or "{}"),
            path=path,
        )

    def describe(self) -> str:
        painting = ", ".join(p for p in (self.title, self.artist, self.year) if p)
        return f"{self.name} ({painting})" if painting else self.name


def save_style(path: str | Path, model: TransformerNet, info: StyleInfo) -> Path:
    """Write a model and its metadata; tensors are stored in half precision."""
    path = Path(path)
    tensors = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in model.state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=info.to_metadata())
    os.replace(tmp, path)  # never leave a half-written style where the app looks
    return path


def read_style_info(path: str | Path) -> StyleInfo:
    """Read only the metadata of a style file (cheap: no tensors are loaded)."""
    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        return StyleInfo.from_metadata(meta, path)
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


def load_style(path: str | Path) -> tuple[TransformerNet, StyleInfo]:
    """Load a style file into a float32 CPU model, checking names and shapes against its config."""
    path = Path(path)
    info = read_style_info(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise WeightsError(f"{path}: cannot read tensors ({_short(exc)})") from exc
    # Shapes first, on the meta device: a config claiming huge widths allocates nothing.
    with torch.device("meta"):
        expected = TransformerNet(info.config).state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        detail = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
        raise WeightsError(
            f"{path}: tensors do not match a {info.variant} network "
            f"({len(missing)} missing, {len(unexpected)} unexpected; {detail})"
        )
    for key, ref in expected.items():
        if tensors[key].shape != ref.shape:
            raise WeightsError(
                f"{path}: tensor {key} has shape {tuple(tensors[key].shape)}, "
                f"the {info.variant} network expects {tuple(ref.shape)}"
            )
    model = TransformerNet(info.config)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    model.eval()
    return model, info


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


def discover_style_files(dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for folder in dirs:
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.suffix == SUFFIX))
    return files


def scan_styles(
    dirs: Iterable[Path] | None = None, prefer_variant: str = "standard"
) -> list[StyleInfo]:
    """Every usable style in the folders, one per name, in key order.

    A name may exist in several variants (standard for GPUs, lite for CPUs); the preferred
    one wins, else whichever exists. Bad files are skipped with a one-line warning.
    """
    by_name: dict[str, StyleInfo] = {}
    for path in discover_style_files(default_style_dirs() if dirs is None else dirs):
        try:
            info = read_style_info(path)
        except WeightsError as exc:
            log.warning("skipping %s", exc)
            continue
        current = by_name.get(info.name)
        if current is None or (info.variant == prefer_variant != current.variant):
            by_name[info.name] = info
    return sorted(by_name.values(), key=lambda s: (s.order, s.name))


def load_styles(infos: Iterable[StyleInfo]) -> list[tuple[TransformerNet, StyleInfo]]:
    """Load every style's tensors; a file that fails is skipped with a warning naming it."""
    loaded = []
    for info in infos:
        try:
            loaded.append(load_style(info.path))
        except WeightsError as exc:
            log.warning("skipping %s", exc)
    return loaded
