"""One painting to add, checked before any child starts: what it is called, which network it
grows, where the grown network goes, and the photos it trains on.

What the child trains on: --train-data, else the user's Pictures folder when it holds some
photos; with neither, the drop says so and starts nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from livestyle.video.files import IMAGE_SUFFIXES
from livestyle.weights import file_stem

# Fewer photos than this in the Pictures folder: not worth guessing that it is a data set.
MIN_PHOTOS = 4
# Files looked at when checking a folder for photos, so a drop never hangs on a huge tree.
MAX_FILES_CHECKED = 20_000


@dataclass(frozen=True)
class Request:
    """One painting to add: to which network, under which name, trained on what."""

    painting: Path
    name: str
    base: Path  # the network file it grows
    variant: str
    order: int  # after every style there is: the next key
    data: Path
    dest: Path  # where the grown network goes


def pictures_dir() -> Path:
    """The user's Pictures folder ($XDG_PICTURES_DIR where set)."""
    return Path(os.environ.get("XDG_PICTURES_DIR") or Path.home() / "Pictures")


def count_photos(folder: Path, enough: int) -> int:
    """Image files under `folder`, counted up to `enough` (a drop must not walk a whole disk)."""
    found = seen = 0
    for _root, _dirs, files in os.walk(folder):
        for name in files:
            seen += 1
            found += Path(name).suffix.lower() in IMAGE_SUFFIXES
            if found >= enough or seen >= MAX_FILES_CHECKED:
                return found
    return found


def photo_folder(given: Path | None) -> Path:
    """The photos to train on: `given` (--train-data), else the Pictures folder when it holds
    a few; a ValueError says in one line what to do when there are none."""
    if given is not None:
        if not given.is_dir() or count_photos(given, 1) == 0:
            raise ValueError(f"no photos in --train-data {given}")
        return given
    pictures = pictures_dir()
    if pictures.is_dir() and count_photos(pictures, MIN_PHOTOS) >= MIN_PHOTOS:
        return pictures
    raise ValueError(
        f"no photos to train on: start livestyle with --train-data PHOTOS_DIR "
        f"(or put some photos in {pictures})"
    )


def style_name(painting: Path, taken: set[str]) -> str:
    """The new style's name: the file's name as a style name, made unique."""
    base = file_stem(painting.stem, "painting").lower()
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def grown_path(base: Path, styles_dir: Path) -> Path:
    """Where the grown network goes: the user's folder under the base's file name (which
    replaces a user copy in place), or a free name when another file has that one."""
    path = styles_dir / base.name
    stem, rest = base.name.split(".", 1)
    n = 1
    while path.exists() and path.resolve() != base.resolve():
        n += 1
        path = styles_dir / f"{stem}-{n}.{rest}"
    return path
