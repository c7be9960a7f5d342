"""The training run: `train(config)` trains a transformer network to carry paintings' styles.

One painting gives a single-style network. Several give one multi-style network with
conditional instance norms (Dumoulin et al. 2017): every sample of a batch is drawn with a
random one of the styles, against that style's Gram targets. `--add-to FILE` adds paintings
to an existing network by training only the new styles' norm rows, the rest frozen.

Here is the loop, with its progress, time box and stop signals; the rest has a module each:
config (the options), plan (which network, which rows train), trainer (model, losses,
optimizer), seeding, distributed (torchrun), checkpoints, naming (the files), metadata (what
the style file says), csvlog (losses.csv), data (photos), losses and lossnet.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from livestyle.core.errors import LivestyleError
from livestyle.core.signals import install_stop_handlers, restore_handlers
from livestyle.train.checkpoints import check_checkpoint, read_checkpoint, save_checkpoint
from livestyle.train.config import TrainConfig
from livestyle.train.csvlog import LossLog
from livestyle.train.data import (
    PhotoPool,
    find_photos,
    load_style_image,
    preview_photo,
    read_face_boxes,
    sample_photos,
    write_preview,
    write_preview_grid,
)
from livestyle.train.distributed import (
    Dist,
    any_rank,
    setup_distributed,
    shard,
    teardown_distributed,
)
from livestyle.train.metadata import save_result
from livestyle.train.naming import check_outputs, output_files, output_name, run_dir
from livestyle.train.plan import StylePlan
from livestyle.train.trainer import Trainer

log = logging.getLogger(__name__)


@dataclass
class StepResult:
    step: int
    losses: dict[str, float]


@dataclass
class TrainResult:
    style_path: Path | None  # None on ranks other than 0, which write nothing
    run_dir: Path
    history: list[StepResult]
    skipped: int
    seconds: float
    interrupted: int | None = None  # the stop signal that ended the run early, if one did


def train(config: TrainConfig) -> TrainResult:
    """Train a style as the config says; rank 0 writes the run folder and the style file."""
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    started = time.perf_counter()
    ctx, device = setup_distributed(config.device)
    try:
        return _train(config, ctx, device, started)
    finally:
        teardown_distributed(ctx)


def _train(config: TrainConfig, ctx: Dist, device: torch.device, t0: float) -> TrainResult:
    if ctx.main:
        check_outputs(output_files(config))
    size = config.size
    paintings = [load_style_image(p.path, size, config.style_size) for p in config.paintings]
    also = config.also_style_size
    second = [load_style_image(p.path, size, also) for p in config.paintings] if also else None
    ckpt = read_checkpoint(Path(config.resume)) if config.resume else None
    if ckpt is not None:
        check_checkpoint(ckpt, config)  # before the slow part: decoding the photos
    plan = StylePlan.of(config)
    pool = _load_photos(config, ctx)
    trainer = Trainer(config, ctx, device, plan)
    if ckpt is not None:
        trainer.restore(ckpt)
    trainer.set_styles(paintings, second)
    out_dir = run_dir(config)
    photo = preview_photo(config.outputs.preview_image, pool, size)
    deadline = t0 + config.max_minutes * 60 if config.max_minutes else math.inf
    with StopRequest() as stop:
        history = _loop(trainer, pool, out_dir, photo, deadline, stop)
        path = None
        if ctx.main:
            path = save_result(config, plan, trainer.model.cpu(), trainer.step_done)
            log.info("saved %s (run folder %s)", path, out_dir)
    seconds = time.perf_counter() - t0
    return TrainResult(path, out_dir, history, pool.skipped, seconds, stop.signum)


def _load_photos(config: TrainConfig, ctx: Dist) -> PhotoPool:
    """This process's share of the photos, decoded; unreadable ones are only counted."""
    root = Path(config.data)
    paths = sample_photos(find_photos(root), config.max_photos, config.seed)
    faces = read_face_boxes(Path(config.faces), root) if config.faces else None
    if faces is not None and ctx.main:
        missing = sum(1 for path in paths if path not in faces)
        if missing:
            log.warning(
                "--faces %s names %d of the %d training photos; the other %d count as "
                "without faces",
                config.faces,
                len(paths) - missing,
                len(paths),
                missing,
            )
    # Each process reads the whole file and keeps the masks of its own share of the photos.
    pool = PhotoPool.load(shard(paths, ctx), config.size, faces)
    if not pool.images:
        raise LivestyleError(f"--data {config.data}: none of the {len(paths)} photos is readable")
    if pool.skipped and ctx.main:
        log.warning("skipped %d unreadable photo(s) of %d", pool.skipped, len(paths))
    return pool


class StopRequest:
    """Ctrl-C or SIGTERM during training: finish the step, then save as the time box does.

    Without it an interrupt lost every step since the last checkpoint and wrote no style.
    A second signal while saving is ignored (the handlers stay until saving is done).
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        try:
            self._previous = install_stop_handlers(self._on_signal)
        except ValueError:  # not the main thread: signals cannot be caught here
            self._previous = {}
        return self

    def __exit__(self, *exc: object) -> None:
        restore_handlers(self._previous)

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
            log.warning("%s: stopping after this step, then saving", signal.Signals(signum).name)


def _loop(
    trainer: Trainer,
    pool: PhotoPool,
    out_dir: Path,
    photo: torch.Tensor,
    deadline: float,
    stop: StopRequest | None = None,
) -> list[StepResult]:
    """Step until --steps, the time box or a stop signal; log, preview and checkpoint."""
    config, main = trainer.config, trainer.ctx.main
    history: list[StepResult] = []
    loss_log = LossLog(out_dir / "losses.csv", append=bool(config.resume)) if main else None
    progress = Progress(config, trainer.step_done, main)
    try:
        while trainer.step_done < config.steps:
            losses = trainer.step(pool)
            step = trainer.step_done
            history.append(StepResult(step, losses))
            if loss_log:
                loss_log.write(step, losses)
            progress.update(step, losses)
            out_of_time, interrupted = _should_stop(trainer.ctx, deadline, stop)
            ending = out_of_time or interrupted
            _periodic(trainer, step, out_dir, photo, last=step == config.steps or ending)
            if ending:
                why = "--max-minutes reached" if out_of_time else "interrupted"
                log.warning("%s: stopping at step %d of %d", why, step, config.steps)
                break
    finally:
        progress.close()
        if loss_log:
            loss_log.close()
    if main:
        _write_preview(trainer, out_dir / "preview_final.jpg", photo)
    return history


def _should_stop(ctx: Dist, deadline: float, stop: StopRequest | None) -> tuple[bool, bool]:
    """(time box over, stop signal received), as any rank saw them: all stop at one step."""
    signalled = stop is not None and stop.signum is not None
    out_of_time, interrupted = any_rank(ctx, [time.perf_counter() >= deadline, signalled])
    return out_of_time, interrupted


class Progress:
    """A progress bar on stderr with the smoothed losses, or (--progress lines) a line
    `progress STEP TOTAL` on stdout per step, for programs; rank 0 only."""

    def __init__(self, config: TrainConfig, done: int, main: bool) -> None:
        self.total = config.steps
        self.lines = main and config.outputs.progress == "lines"
        self.smooth: dict[str, float] = {}
        self.bar = tqdm(
            total=self.total,
            initial=done,
            disable=not main or self.lines,
            unit="step",
            dynamic_ncols=True,
            desc=f"train {output_name(config)}",
        )
        if self.lines:
            self._line(done)  # set up: the first step is coming

    def update(self, step: int, losses: dict[str, float]) -> None:
        self.smooth = _smooth(self.smooth, losses)
        self.bar.set_postfix_str(
            " ".join(f"{k}={v:.3g}" for k, v in self.smooth.items()), refresh=False
        )
        self.bar.update(1)
        if self.lines:
            self._line(step)

    def _line(self, step: int) -> None:
        # Flushed at once: a program reading the pipe shows it live (stdout to a pipe is
        # block-buffered).
        print(f"progress {step} {self.total}", flush=True)

    def close(self) -> None:
        self.bar.close()


def _smooth(avg: dict[str, float], losses: dict[str, float]) -> dict[str, float]:
    # Exponential moving average: single-batch losses jump around too much to read.
    return {k: v if k not in avg else 0.9 * avg[k] + 0.1 * v for k, v in losses.items()}


def _periodic(trainer: Trainer, step: int, out_dir: Path, photo: torch.Tensor, last: bool) -> None:
    """The checkpoint and preview due at this step, if any."""
    outputs = trainer.config.outputs
    if outputs.checkpoint_every and (step % outputs.checkpoint_every == 0 or last):
        ckpt = trainer.checkpoint()  # every rank takes part: it gathers their RNG states
        if trainer.ctx.main:
            save_checkpoint(out_dir / "checkpoint.pt", ckpt)
    if trainer.ctx.main and outputs.preview_every and step % outputs.preview_every == 0:
        _write_preview(trainer, out_dir / f"preview_{step:06d}.jpg", photo)


def _write_preview(trainer: Trainer, path: Path, photo: torch.Tensor) -> None:
    """The photo beside its stylized version; for a multi-style run, beside every style."""
    if not trainer.plan.multi:
        write_preview(path, photo, trainer.stylize(photo))
        return
    write_preview_grid(path, photo, [trainer.stylize(photo, i) for i in trainer.rows.range])
