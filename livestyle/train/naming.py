"""What a run's files are called and where they go, and the check, before the first step,
that every one of them can be written."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from livestyle.core.errors import OutputError, failure_reason
from livestyle.discovery import user_styles_dir
from livestyle.train.config import TrainConfig
from livestyle.weights import SUFFIX, file_stem

log = logging.getLogger(__name__)


def output_name(config: TrainConfig) -> str:
    """What the run's files are called: the style's name for one painting, else the
    network's (--network-name, the --add-to file's, or "styles")."""
    if len(config.paintings) == 1 and not config.add_to:
        return config.paintings[0].name
    if config.network_name:
        return config.network_name.strip()
    if config.add_to:
        return Path(config.add_to).name.split(".")[0]
    return "styles"


def style_file(config: TrainConfig) -> Path:
    """NAME.VARIANT.safetensors, the scheme of the shipped styles (unless --out says else);
    NAME made a file name by file_stem, so that no style name leads out of the folder."""
    outputs = config.outputs
    if outputs.out:
        return Path(outputs.out)
    folder = Path(outputs.out_dir) if outputs.out_dir else user_styles_dir()
    return folder / f"{file_stem(output_name(config))}.{config.variant}{SUFFIX}"


def style_path(config: TrainConfig) -> Path:
    """style_file, with a word when the file's name is not the style's."""
    path, name = style_file(config), output_name(config)
    if not config.outputs.out and path.name != f"{name}.{config.variant}{SUFFIX}":
        log.warning(
            "name %r has characters a file name cannot carry: the file is %s "
            "(the app still shows %r)",
            name,
            path.name,
            name,
        )
    return path


def run_dir(config: TrainConfig) -> Path:
    """The folder for previews, checkpoints and losses.csv."""
    given = config.outputs.run_dir
    return Path(given) if given else Path("runs") / file_stem(output_name(config))


def output_files(config: TrainConfig) -> list[tuple[Path, str]]:
    """Every file a run writes (rank 0 only), each with the option that says where: the
    style, and in the run folder the losses, the previews (the final one always) and the
    checkpoint. The files beside these (losses-until-STEP.csv, preview_STEP.jpg) share
    their folders."""
    where = "--out" if config.outputs.out else "--out-dir"
    folder = run_dir(config)
    files = [(style_path(config), where), (folder / "losses.csv", "--run-dir")]
    files.append((folder / "preview_final.jpg", "--run-dir"))
    if config.outputs.checkpoint_every:
        files.append((folder / "checkpoint.pt", "--run-dir"))
    return files


def check_outputs(files: list[tuple[Path, str]]) -> None:
    """Refuse, in one line, a file that cannot be written: before the first step, not after
    hours of training (the files' folders are made here)."""
    for path, option in files:
        reason = _unwritable(path)
        if reason:
            raise OutputError(f"cannot write {path}: {reason} ({option} sets where it goes)")


def _unwritable(path: Path) -> str | None:
    """Why `path` cannot be written, or None: tried by creating what its writer creates
    first, PATH.tmp (a permission check would pass for root, or on a read-only mount)."""
    if path.is_dir():
        return "it is a folder"
    above = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if above is not None and not above.is_dir():
        return f"{above} is a file, not a folder"
    probe = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except FileExistsError:
        pass  # left by a run that was killed: the writer replaces it
    except OSError as exc:
        return failure_reason(exc)
    return None
