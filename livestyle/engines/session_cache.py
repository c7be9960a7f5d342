"""The ONNX Runtime model each network body ends up with, kept on disk between runs.

Making it is most of a CPU start: writing the graph imports `onnx` (0.5 s), and int8 runs
the float32 network over calibration pictures, quantizes it and checks the result against
float32 (about a second a body). What comes out depends only on the graph, the styles'
norm parameters (the calibration runs every style of the body), the precision asked for,
and the code and ONNX Runtime that made it, so all of those name the file: a second start
(or a second `stylize`) reads the model back and only builds its session.

The files live in $LIVESTYLE_CACHE_DIR, else $XDG_CACHE_HOME/livestyle/sessions (default
~/.cache); LIVESTYLE_CACHE_DIR set to an empty value turns the cache off. A cache that
cannot be read or written is passed by, never an error: it only saves time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import logging
import os
import platform
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from livestyle.core.errors import OutputError
from livestyle.core.outputs import replaced_whole

log = logging.getLogger(__name__)

CACHE_ENV = "LIVESTYLE_CACHE_DIR"
# Files kept: each is one network body in one precision (about 0.5-2 MB).
KEEP = 16
# The modules whose code decides what the model is: any edit to them makes new names.
_MAKERS = ("livestyle.engines.onnx", "livestyle.engines.quantize")
SUFFIXES = {True: ".int8.onnx", False: ".fp32.onnx"}


def cache_dir() -> Path | None:
    """Where the models are kept, or None when the cache is turned off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return Path(chosen) if chosen.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "livestyle" / "sessions"


def session_key(graph: str, feeds: Iterable[dict[str, np.ndarray]], int8: bool | None) -> str:
    """The name of a body's model: its graph (a hash of it), every style's norm values, the
    precision asked for ("auto" is None), for int8 the CPU it is made for, and the
    versions of the code that makes and runs it."""
    import onnxruntime

    from livestyle import __version__

    digest = hashlib.sha256(graph.encode())
    for style in feeds:
        for name, value in style.items():
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    digest.update(f"{int8}|{__version__}|{onnxruntime.__version__}".encode())
    if int8 is not False:  # int8 is quantized for this CPU, "auto" also weighs its speed
        digest.update(cpu_identity().encode())
    for module in _MAKERS:
        spec = importlib.util.find_spec(module)
        if spec is not None and spec.origin:
            digest.update(Path(spec.origin).read_bytes())
    return digest.hexdigest()[:32]


@functools.cache  # one read a process, not one a network body
def cpu_identity() -> str:
    """The processor's model and instruction sets as the system names them (Linux:
    /proc/cpuinfo; two virtual machines both called "AMD EPYC" differed in int8 dot
    products), else the architecture: what makes int8 faster than float32 or not."""
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        named = [
            line for line in lines if line.startswith(("model name", "Model", "flags", "Features"))
        ]
        if named:
            return "\n".join(dict.fromkeys(named))  # every core repeats them
    return platform.processor() or platform.machine()


def load(key: str) -> tuple[bytes, bool] | None:
    """The model kept under `key` and whether it is int8, or None."""
    folder = cache_dir()
    if folder is None:
        return None
    for int8, suffix in SUFFIXES.items():
        path = folder / (key + suffix)
        try:
            model = path.read_bytes()
        except OSError:
            continue
        _touch(path)  # the newest files are the ones kept
        return model, int8
    return None


def store(key: str, model: bytes, int8: bool) -> None:
    """Keep `model` under `key` (written whole, or not at all), and the newest KEEP files."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        with replaced_whole(folder / (key + SUFFIXES[int8])) as temporary:
            temporary.write_bytes(model)
        _prune(folder)
    except (OutputError, OSError) as exc:  # full disk, read-only home: made again next time
        log.debug("session cache not written (%s)", exc)


def discard(key: str) -> None:
    """Remove what is kept under `key` (it did not load)."""
    folder = cache_dir()
    if folder is None:
        return
    for suffix in SUFFIXES.values():
        with contextlib.suppress(OSError):
            (folder / (key + suffix)).unlink(missing_ok=True)


def _touch(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(path)


def _prune(folder: Path) -> None:
    files = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[KEEP:]:
        old.unlink(missing_ok=True)
