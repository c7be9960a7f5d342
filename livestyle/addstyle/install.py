"""The grown network into the styles folder, and the styles reloaded with it.

Nothing half-written ever reaches the styles folder: the child's file must read back and
hold the new style; it is then copied next to the styles under a hidden name (never scanned
as a style) and renamed into place in one atomic step. The grown file goes to the user's
styles folder (the package's may be read-only), where it replaces the file it grew from
(weights.superseded).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from livestyle.addstyle.request import Request
from livestyle.core.errors import WeightsError
from livestyle.core.outputs import WholeFile
from livestyle.discovery import live_styles, load_styles, scan_styles
from livestyle.stylizer import Stylizer
from livestyle.weights import read_style_infos


@contextmanager
def staged(out: Path, request: Request) -> Iterator[WholeFile]:
    """The child's file `out`, checked and copied beside its destination: `commit()` renames
    it into place; whatever is not committed is removed on the way out."""
    names = [info.name for info in read_style_infos(out)]  # reads back, or raises
    if request.name not in names:
        raise WeightsError(f"{out.name} lacks the style {request.name}")
    whole = WholeFile(request.dest)
    try:
        shutil.copyfile(out, whole.temporary)
        yield whole
    finally:
        whole.discard()  # nothing left once committed


def reload_with(stylizer: Stylizer, dirs: list[Path], variant: str, name: str) -> None:
    """The styles as the app found them at start, now with the grown network; then the new
    style `name` on screen (any thread: the stylizer swaps between frames)."""
    found = scan_styles(dirs, prefer_variant=variant)
    stylizer.replace_styles(load_styles(live_styles(found, variant)))
    stylizer.select(stylizer.find(name))
