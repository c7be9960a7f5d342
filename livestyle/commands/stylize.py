"""`livestyle stylize`: images and videos from the command line, every frame, with progress.

A video comes out as H.264 in MP4 with its frames at the source's times and the source's
sound copied in (see livestyle.video.writer: mp4v without sound where PyAV cannot write H.264).

Nothing is lost or replaced by mistake: an output that is one of the inputs (the same path,
a hard link, a symlink) is refused, an existing output is kept unless --overwrite, and each
output is written under a partial name beside it and takes its own name only when complete
(livestyle.core.outputs). A video interrupted (Ctrl-C, SIGTERM) or cut short by a failed write
keeps its frames in the partial file, and the message says where and how many.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import cv2
from tqdm import tqdm

from livestyle.commands.options import add_style_options, load_stylizer, style_options_from_args
from livestyle.config import StylizeConfig
from livestyle.core.errors import LivestyleError, OutputError, SourceError
from livestyle.core.outputs import check_output, check_writable, written_aside
from livestyle.core.signals import stop_signals_interrupt
from livestyle.steady import SteadyStream
from livestyle.stylizer import Stylizer
from livestyle.video.files import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    WRITABLE_VIDEO_SUFFIXES,
    VideoReader,
    read_image,
    write_image,
)
from livestyle.video.output import Saved, VideoOutput
from livestyle.video.writer import open_video_writer
from livestyle.weights import file_stem

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stylize", help="stylize image and video files")
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="image or video files")
    p.add_argument(
        "--style",
        required=True,
        help="style name (see 'livestyle styles'), or a blend of one network's styles: a:0.6,b:0.4",
    )
    p.add_argument(
        "-o",
        "--output",
        default=None,  # a str: a trailing '/' (a folder) would be lost in a Path
        help="output file (one input) or folder, created if missing (several inputs, or a "
        "trailing /) (default: NAME-STYLE.EXT here)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace output files that exist (never an input file)",
    )
    add_style_options(p)
    p.set_defaults(func=run)


def output_path(source: Path, style: str, output: Path | None, many: bool) -> Path:
    """Where the result of one input goes."""
    suffix = ".mp4" if source.suffix.lower() in VIDEO_SUFFIXES else source.suffix
    # Style names come from files' metadata: each made safe before it enters a path (a
    # blend's names are joined by '+').
    safe = "+".join(file_stem(part) for part in style.split("+"))
    name = f"{source.stem}-{safe}{suffix}"
    if output is None:
        return Path(name)
    if many or output.is_dir():
        return output / name
    return output


def stylize_image(stylizer: Stylizer, source: Path, target: Path, overwrite: bool = False) -> Path:
    """Stylize one image into `target`; returns where it is."""
    check_writable(target)
    image = stylizer.stylize(read_image(source)).image
    with written_aside(target, overwrite) as aside:
        write_image(aside.partial, image)
    assert aside.path is not None
    return aside.path


def stylize_video(
    stylizer: Stylizer,
    source: Path,
    target: Path,
    steady: bool = True,
    overwrite: bool = False,
) -> Saved:
    """Stylize every frame; the output keeps the input's size, frame times and sound.
    `steady`: smoothed over time where the picture stands still (livestyle.steady).
    Interrupted or failed, the frames written so far stay in the partial file (see the
    module's docstring) and the error says so."""
    video = VideoReader(source)
    check_writable(target)
    output: VideoOutput | None = None
    stream = SteadyStream(stylizer, steady)  # as the live view and eval-stability do
    progress = tqdm(total=video.frame_count, unit="frame", desc=source.name, dynamic_ncols=True)
    try:
        for frame, time in video:
            if output is None:
                size = (frame.shape[1], frame.shape[0])
                output = VideoOutput(
                    target,
                    video.fps,
                    size,
                    factory=open_video_writer,
                    overwrite=overwrite,
                    live=False,
                    audio_from=source,
                )
            output.write(stream(frame).image, time)
            progress.update()
    except OutputError as exc:  # a full disk, an I/O error: keep what is whole, in one line
        raise OutputError(f"{exc}; {_keep_partial(output)}") from exc
    except BaseException:  # Ctrl-C, SIGTERM, or a bug: the frames made so far are kept
        kept = _keep_partial(output)
        progress.close()
        print(f"livestyle: {source} not finished: {kept}", file=sys.stderr, flush=True)
        raise
    finally:
        progress.close()
        video.close()
    if output is None:
        raise SourceError(f"cannot read {source}: no frames")
    return output.finish()


def _keep_partial(output: VideoOutput | None) -> str:
    """Close a video cut short under its partial name; what it holds, in words."""
    if output is None:
        return "no frames were written"
    return output.finish(publish_it=False).describe()


def plan_outputs(
    inputs: list[Path], style: str, output: Path | None, many: bool, overwrite: bool
) -> list[Path]:
    """Each input's output path, refusing any that is an input, exists (unless
    `overwrite`) or is the output of another input too; before any work is done."""
    targets = [output_path(source, style, output, many) for source in inputs]
    for target in targets:
        check_output(target, inputs, overwrite)
        twins = [other for other, t in zip(inputs, targets, strict=True) if t == target]
        if len(twins) > 1:
            raise OutputError(
                f"{twins[0]} and {twins[1]} would both be written to {target}: "
                "stylize them one at a time, each with its own -o"
            )
    return targets


def output_folder(raw: str | None, many: bool) -> Path | None:
    """-o as a folder when it names one (several inputs, or a trailing slash), else None."""
    if raw is None or not (many or raw.endswith(("/", os.sep))):
        return None
    folder = Path(raw)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{raw} is a file: give a folder for several inputs")
    return folder


def check_target_type(source: Path, target: Path) -> None:
    """Refuse an output name the writers cannot encode before any style is loaded."""
    if source.suffix.lower() in VIDEO_SUFFIXES:
        if target.suffix.lower() not in WRITABLE_VIDEO_SUFFIXES:
            raise OutputError(
                f"cannot write {target}: a video needs one of "
                f"{', '.join(WRITABLE_VIDEO_SUFFIXES)} as the extension"
            )
    elif not cv2.haveImageWriter(str(target)):
        raise OutputError(
            f"cannot write {target}: unsupported image format '{target.suffix}' "
            f"(use one of {', '.join(sorted(IMAGE_SUFFIXES))})"
        )


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create folder {folder}: {exc.strerror or exc}") from exc


def config_from_args(args: argparse.Namespace) -> StylizeConfig:
    return StylizeConfig(
        inputs=tuple(args.inputs),
        output=args.output,
        overwrite=args.overwrite,
        style_options=style_options_from_args(args, style=args.style),
        steady=args.steady,
    )


def run(args: argparse.Namespace) -> int:
    return run_stylize(config_from_args(args))


def check_input(source: Path) -> None:
    """An input stylize can read: a file, of a kind it knows, in a one-line error that says
    what to give instead."""
    if source.is_dir():
        raise LivestyleError(
            f"{source}/: is a folder; give the files to stylize (for example {source}/*.jpg)"
        )
    if source.suffix.lower() not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
        raise LivestyleError(
            f"{source}: unknown file type '{source.suffix}' (stylize reads images: "
            f"{_kinds(IMAGE_SUFFIXES)}; videos: {_kinds(VIDEO_SUFFIXES)})"
        )
    if not source.is_file():
        raise SourceError(f"cannot read {source}: no such file")


def _kinds(suffixes: set[str]) -> str:
    return " ".join(sorted(suffix.lstrip(".") for suffix in suffixes))


def run_stylize(config: StylizeConfig) -> int:
    inputs = list(config.inputs)
    for source in inputs:
        check_input(source)
    many = len(inputs) > 1
    folder = output_folder(config.output, many)
    output = folder if folder is not None else (Path(config.output) if config.output else None)
    if output is not None and folder is None and not output.is_dir():
        check_target_type(inputs[0], output)
    stylizer = load_stylizer(config.style_options, only_chosen=True)
    # Output files are named after the style, or after every style of a blend.
    style = "+".join(stylizer.styles[index].info.name for index, _ in stylizer.mix)
    # -o names a folder (made below, after the checks) or, for one input, maybe a file.
    targets = plan_outputs(inputs, style, output, many or folder is not None, config.overwrite)
    if folder is not None:
        make_folder(folder)  # after the style loaded: a typo in --style leaves no folder
    with stop_signals_interrupt():  # `kill` keeps the frames made so far, as Ctrl-C does
        for source, target in zip(inputs, targets, strict=True):
            if source.suffix.lower() in VIDEO_SUFFIXES:
                saved = stylize_video(stylizer, source, target, config.steady, config.overwrite)
                print(f"{saved.path} ({saved.frames} frames)")
            else:
                print(stylize_image(stylizer, source, target, config.overwrite))
    return 0
