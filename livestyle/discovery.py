"""Where styles are found, and which ones the app shows: the shipped folder, the user's, and
$LIVESTYLE_STYLES_DIR; a file that does not load hides nothing; a network grown from
another replaces it; two styles of one name clash and the first found is shown."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from livestyle.core.errors import WeightsError
from livestyle.model import TransformerNet, style_views
from livestyle.weights import (
    SHIPPED_STYLES,
    SUFFIX,
    StyleInfo,
    file_digest,
    load_network,
    read_lineage,
    read_style_infos,
)

log = logging.getLogger(__name__)


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


def superseded(paths: Iterable[Path]) -> set[Path]:
    """The files that another of `paths` was grown from: that grown copy holds every style of
    theirs bit for bit (plus its own), so they are left out rather than shown twice. Pass only
    files that load (installed_networks does): a broken copy must hide nothing."""
    paths = list(paths)
    claimed = {digest for path in paths for digest in read_lineage(path)}
    if not claimed:
        return set()  # the usual case: no file is hashed
    return {path for path in paths if _digest_or_none(path) in claimed}


def _digest_or_none(path: Path) -> str | None:
    try:
        return file_digest(path)
    except OSError:  # unreadable: it is skipped with a warning when its metadata is read
        return None


def discover_style_files(dirs: Iterable[Path]) -> list[Path]:
    """The style files of the folders, in their order; a folder named twice (--styles-dir and
    $LIVESTYLE_STYLES_DIR, say) counts once, or its styles would clash with themselves."""
    files: list[Path] = []
    seen: set[str] = set()
    for folder in dirs:
        if folder.is_dir() and os.path.realpath(folder) not in seen:
            seen.add(os.path.realpath(folder))
            files.extend(sorted(p for p in folder.iterdir() if p.suffix == SUFFIX))
    return files


def readable_networks(files: Iterable[Path]) -> dict[Path, list[StyleInfo]]:
    """The files that would load, with their styles; each other one is skipped with one
    warning line, so it neither shows a style nor hides one (see installed_networks)."""
    networks: dict[Path, list[StyleInfo]] = {}
    for path in files:
        try:
            networks[path] = read_style_infos(path)
        except WeightsError as exc:
            log.warning("skipping %s", exc)
    return networks


def installed_networks(dirs: Iterable[Path] | None = None) -> dict[Path, list[StyleInfo]]:
    """The style files of the folders that the app shows styles of: those that would load,
    less those a grown one of them replaces (superseded). Only a file that loads may hide
    its base: a broken grown copy must not take the intact shipped network with it."""
    files = discover_style_files(default_style_dirs() if dirs is None else dirs)
    networks = readable_networks(files)
    gone = superseded(networks)
    return {path: infos for path, infos in networks.items() if path not in gone}


@dataclass
class Clash:
    """A style that another network's style of the same name and variant hides."""

    hidden: StyleInfo
    shown: StyleInfo

    def describe(self) -> str:
        return (
            f"style {self.hidden.name!r} of {self.hidden.path} is hidden by the "
            f"{self.shown.variant} style of that name in {self.shown.path}"
        )


@dataclass
class Installed:
    """The styles the app shows, in key order, and the ones that name clashes hide."""

    styles: list[StyleInfo]
    clashes: list[Clash]


def find_styles(dirs: Iterable[Path] | None = None, prefer_variant: str = "standard") -> Installed:
    """Every usable style in the folders, one per name, in key order.

    A name may exist in several variants (standard for GPUs, lite for CPUs); the preferred
    one wins, else whichever exists. A network grown by `train --add-to` (written to the
    user's folder) replaces the file it grew from (the shipped one, say) wherever that is.
    Two networks with a style of one name and variant clash: the first found is shown.
    """
    by_name: dict[str, StyleInfo] = {}
    clashes: list[Clash] = []
    for infos in installed_networks(dirs).values():
        for info in infos:
            current = by_name.get(info.name)
            if current is None or (info.variant == prefer_variant != current.variant):
                by_name[info.name] = info
            elif info.variant == current.variant:
                clashes.append(Clash(info, current))
    return Installed(sorted(by_name.values(), key=lambda s: (s.order, s.name)), clashes)


def scan_styles(
    dirs: Iterable[Path] | None = None, prefer_variant: str = "standard"
) -> list[StyleInfo]:
    """find_styles' styles; bad files and name clashes are said in one warning line each."""
    found = find_styles(dirs, prefer_variant)
    for clash in found.clashes:
        log.warning(
            "%s (remove one file, or train one again under another --name)", clash.describe()
        )
    return found.styles


def find_installed(name: str, variant: str, dirs: Iterable[Path] | None = None) -> Path | None:
    """The installed style file NAME means (`train --add-to NAME`): the network whose file is
    NAME.VARIANT.safetensors, else the file holding a style called NAME; of copies, the one
    scan_styles shows (a grown network over the file it grew from)."""
    infos = [i for i in scan_styles(dirs, prefer_variant=variant) if i.path is not None]
    for info in infos:
        if info.path.name == f"{name}.{variant}{SUFFIX}":
            return info.path
    return next((info.path for info in infos if info.name == name), None)


def live_styles(infos: list[StyleInfo], prefer_variant: str) -> list[StyleInfo]:
    """The styles fit for the live view: with the lite variant preferred (a CPU), styles that
    exist only as standard networks are left out while lite ones exist, said in one line:
    the standard network does about 4.6x the lite one's work per pixel (3.9x its time on one
    CPU thread, benchmarks/RESULTS.md)."""
    heavy = too_slow_live(infos, prefer_variant)
    if heavy:
        log.warning(
            "%d style(s) exist only as standard networks, too slow live on this device: "
            "%s (--variant standard shows them)",
            len(heavy),
            ", ".join(info.name for info in heavy),
        )
    left_out = {id(info) for info in heavy}
    return [info for info in infos if id(info) not in left_out]


def too_slow_live(infos: list[StyleInfo], prefer_variant: str) -> list[StyleInfo]:
    """The styles live_styles leaves out: standard-only ones where lite is preferred and some
    lite ones exist (slow beats nothing)."""
    if prefer_variant != "lite":
        return []
    heavy = [info for info in infos if info.variant == "standard"]
    return heavy if len(heavy) < len(infos) else []


def load_styles(infos: Iterable[StyleInfo]) -> list[tuple[TransformerNet, StyleInfo]]:
    """Load every style's tensors, each file once (the styles of one multi-style file share
    its convolutions); a file that fails is skipped with a warning naming it."""
    infos = list(infos)
    views: dict[Path, list[TransformerNet]] = {}
    for path in dict.fromkeys(info.path for info in infos):
        try:
            views[path] = style_views(load_network(path)[0])
        except WeightsError as exc:
            log.warning("skipping %s", exc)
    return [(views[i.path][i.index or 0], i) for i in infos if i.path in views]
