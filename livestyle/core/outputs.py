"""Files made for the user: never over an input, never over an existing file unless asked,
and under their own name only when complete.

A file is written beside its target under a partial name (`clip-udnie.partial.mp4`) and
moved to the target when it is done, so an interruption never leaves half a file under the
name of a finished one, and a crash leaves the partial file (a recording's plays; see
livestyle.video.output). Moving uses a hard link where it can: it fails instead of replacing
a file that appeared at the target meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from livestyle.core.errors import OutputError, failure_reason

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; video.output.recover is POSIX-only
    fcntl = None  # type: ignore[assignment]

PARTIAL = ".partial"  # between a partial file's stem and its suffix


def folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def same_file(a: Path, b: Path) -> bool:
    """Whether `a` and `b` are one file: the same path, a hard link or a symlink to it."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: compare where they would be
        return a.resolve() == b.resolve()


def check_output(target: Path, inputs: Iterable[Path] = (), overwrite: bool = False) -> Path:
    """Refuse a target that is one of the inputs (even with `overwrite`: the input would be
    gone before it was read), a folder, or, unless `overwrite`, any existing file."""
    for source in inputs:
        if same_file(target, source):
            raise OutputError(
                f"cannot write {target}: it is the input {source} (give another output name)"
            )
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder (give a file name)")
    if target.exists() and not overwrite:
        raise OutputError(f"{target} exists: --overwrite replaces it, or give another name")
    return target


def check_writable(path: Path) -> Path:
    """Fail early, in one line, when the output folder is missing or read-only."""
    folder = folder_of(path)
    if not folder.is_dir():
        raise OutputError(f"cannot write {path}: folder {folder} does not exist")
    probe = folder / f".livestyle-write-test-{threading.get_ident()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def partial_path(target: Path) -> Path:
    """A new, empty file beside `target` to write it under: STEM.partial.SUFFIX (then
    .partial-2 ...), created here so two writers never share one."""
    stem, suffix = target.stem, target.suffix
    for n in range(1, 1000):
        tag = PARTIAL if n == 1 else f"{PARTIAL}-{n}"
        path = target.with_name(f"{stem}{tag}{suffix}")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
        fsync_folder(folder_of(path))  # the name itself must survive a power cut
        return path
    raise OutputError(f"cannot write {target}: too many partial files beside it")


def publish(partial: Path, target: Path, overwrite: bool = False) -> Path:
    """Move the finished `partial` to `target` and return where it is. Without `overwrite`,
    a file that appeared at the target meanwhile stays: the result takes the first free
    name after it (NAME-1.EXT ...)."""
    fsync_file(partial)
    if overwrite:
        os.replace(partial, target)
    else:
        target = _move_to_free_name(partial, target)
    fsync_folder(folder_of(target))
    return target


def free_names(target: Path) -> Iterator[Path]:
    """`target`, then NAME-1.EXT, NAME-2.EXT ..."""
    yield target
    for n in range(1, 10_000):
        yield target.with_name(f"{target.stem}-{n}{target.suffix}")


def new_file_in(folder: Path, name: str) -> Path:
    """folder/name, or NAME-1.EXT ... where that exists: a new name never replaces a file."""
    return next(path for path in free_names(folder / name) if not path.exists())


# Where a folder takes no hard links (FAT, some network shares), os.link fails with these.
NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def _move_to_free_name(partial: Path, target: Path) -> Path:
    for candidate in free_names(target):
        try:
            os.link(partial, candidate)  # fails, unlike a rename, where a file exists
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in NO_HARD_LINKS:
                raise
            candidate = next(c for c in free_names(target) if not c.exists())
            os.replace(partial, candidate)  # a look, then a rename: the best such a disk allows
            return candidate
        partial.unlink()
        return candidate
    raise OutputError(f"cannot write {target}: no free name beside it")


def fsync_file(path: Path) -> None:
    """Push what the OS holds of `path` to the disk (a power cut keeps it)."""
    _fsync(path)


def fsync_folder(folder: Path) -> None:
    """Make a file's new name durable: its folder's entry is data too (not on Windows)."""
    if os.name == "posix":
        _fsync(folder)


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class FileLock:
    """An exclusive lock on a file being written (POSIX flock, advisory): a partial file
    nobody holds is one a crash left behind (livestyle.video.output.recover). The lock's
    descriptor also pushes the file to the disk (`sync`)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        if fcntl is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(self._fd)
                raise

    def sync(self) -> None:
        with contextlib.suppress(OSError):
            os.fsync(self._fd)

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = -1


def try_lock(path: Path) -> FileLock | None:
    """The file's lock, or None when another process holds it (or it cannot be opened)."""
    try:
        return FileLock(path)
    except OSError:
        return None


class Aside:
    """A file being written under a partial name beside `target` (see written_aside)."""

    def __init__(self, target: Path, overwrite: bool = False) -> None:
        self.target = target
        self.overwrite = overwrite
        self.partial = partial_path(target)
        self.path: Path | None = None  # where the finished file is, once published

    def publish(self) -> Path:
        self.path = publish(self.partial, self.target, self.overwrite)
        return self.path

    def discard(self) -> None:
        self.partial.unlink(missing_ok=True)


@contextlib.contextmanager
def written_aside(target: Path, overwrite: bool = False) -> Iterator[Aside]:
    """Write `target` under the yielded Aside's `partial` path: it becomes the target when
    the block ends without an error (its `path` says where) and is removed when it fails."""
    aside = Aside(target, overwrite)
    try:
        yield aside
    except BaseException:
        aside.discard()
        raise
    aside.publish()


def _umask() -> int:
    """The process's umask (read by setting it: there is no other portable way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: setting it from a thread later could give another thread's new file a wrong mode.
_UMASK = _umask()


def usual_mode(target: Path) -> int:
    """The permissions `target` should end with: its own when it exists, else a new file's
    (0o666 less the umask). Writers such as safetensors make their files 0o600, which would
    leave a trained style unreadable to the user's other accounts and to a shared folder."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


class WholeFile:
    """A file that replaces `target` whole (a style, a checkpoint, the settings): written
    under a hidden name beside it (`.NAME.PID.partial`, which no style scan or viewer picks
    up), then fsynced and renamed over it, so a crash or a power cut leaves the old file or
    the new one, never half of either. See `replaced_whole` for the usual form."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target)
        self.temporary = self.target.with_name(f".{self.target.name}.{os.getpid()}{PARTIAL}")
        self.target.parent.mkdir(parents=True, exist_ok=True)

    def commit(self) -> Path:
        os.chmod(self.temporary, usual_mode(self.target))
        fsync_file(self.temporary)
        os.replace(self.temporary, self.target)
        fsync_folder(folder_of(self.target))
        return self.target

    def discard(self) -> None:
        """Remove what was written; nothing after `commit`."""
        with contextlib.suppress(OSError):
            self.temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def replaced_whole(
    target: Path, failures: tuple[type[BaseException], ...] = (OSError,)
) -> Iterator[Path]:
    """Yield the temporary path to write `target` under; it replaces `target` when the block
    ends without an error. A write failing with one of `failures` (a full disk) becomes one
    OutputError line; anything else is re-raised. Either way nothing is left behind."""
    try:
        whole = WholeFile(target)
    except OSError as exc:  # the folder cannot be made
        raise OutputError(f"cannot write {target}: {failure_reason(exc)}") from exc
    try:
        yield whole.temporary
        whole.commit()
    except failures as exc:
        whole.discard()
        raise OutputError(f"cannot write {target}: {failure_reason(exc)}") from exc
    except BaseException:
        whole.discard()
        raise
