"""`livestyle stylize`: images and videos from the command line, every frame, with progress.

A video comes out as H.264 in MP4 with its frames at the source's times and the source's
sound copied in (see livestyle.video.writer: mp4v without sound where PyAV cannot write H.264).
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import cv2
from tqdm import tqdm

from livestyle.commands.options import add_style_options, load_stylizer
from livestyle.errors import LivestyleError, OutputError, SourceError
from livestyle.live.recorder import check_writable
from livestyle.steady import Steadier
from livestyle.stylizer import Stylizer
from livestyle.video.files import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    WRITABLE_VIDEO_SUFFIXES,
    VideoReader,
    check_free_space,
    read_image,
    write_image,
)
from livestyle.video.writer import VideoWriter, open_video_writer

log = logging.getLogger(__name__)

# Free disk space is checked every this many frames.
DISK_CHECK_EVERY = 30


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
    add_style_options(p)
    p.set_defaults(func=run)


def output_path(source: Path, style: str, output: Path | None, many: bool) -> Path:
    """Where the result of one input goes."""
    suffix = ".mp4" if source.suffix.lower() in VIDEO_SUFFIXES else source.suffix
    name = f"{source.stem}-{style}{suffix}"
    if output is None:
        return Path(name)
    if many or output.is_dir():
        return output / name
    return output


def stylize_image(stylizer: Stylizer, source: Path, target: Path) -> Path:
    check_writable(target)
    return write_image(target, stylizer.stylize(read_image(source)).image)


def stylize_video(stylizer: Stylizer, source: Path, target: Path, steady: bool = True) -> int:
    """Stylize every frame; the output keeps the input's size, frame times and sound.
    `steady`: smoothed over time where the picture stands still (livestyle.steady)."""
    video = VideoReader(source)
    check_writable(target)
    writer: VideoWriter | None = None
    frames = 0
    steadier = Steadier() if steady else None
    progress = tqdm(total=video.frame_count, unit="frame", desc=source.name, dynamic_ncols=True)
    try:
        for frame, time in video:
            if writer is None:
                size = (frame.shape[1], frame.shape[0])
                writer = open_video_writer(target, video.fps, size, live=False, audio_from=source)
            image = stylizer.stylize(frame).image
            if steadier is not None:
                image = steadier(frame, image)
            writer.write(image, time)
            frames += 1
            progress.update()
            if frames % DISK_CHECK_EVERY == 0:
                check_free_space(target)
    finally:
        progress.close()
        video.close()
        if writer is not None:
            writer.release()  # finalize what was written even when interrupted
    if frames == 0:
        raise SourceError(f"cannot read {source}: no frames")
    return frames


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


def run(args: argparse.Namespace) -> int:
    for source in args.inputs:
        kind = source.suffix.lower()
        if kind not in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
            raise LivestyleError(f"{source}: unknown file type '{source.suffix}'")
        if not source.is_file():
            raise SourceError(f"cannot read {source}: no such file")
    many = len(args.inputs) > 1
    folder = output_folder(args.output, many)
    output = folder if folder is not None else (Path(args.output) if args.output else None)
    if output is not None and folder is None and not output.is_dir():
        check_target_type(args.inputs[0], output)
    stylizer = load_stylizer(args)
    # Output files are named after the style, or after every style of a blend.
    style = "+".join(stylizer.styles[index].info.name for index, _ in stylizer.mix)
    if folder is not None:
        make_folder(folder)  # after the style loaded: a typo in --style leaves no folder
    for source in args.inputs:
        target = output_path(source, style, output, many)
        if source.suffix.lower() in VIDEO_SUFFIXES:
            frames = stylize_video(stylizer, source, target, args.steady)
            print(f"{target} ({frames} frames)")
        else:
            print(stylize_image(stylizer, source, target))
    return 0
