"""`livestyle live`: open the source, load every style, run the pipeline in a window or headless."""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
from pathlib import Path

from .capture import DEMO, FrameSource, open_source
from .display import require_display
from .errors import LivestyleError, OutputError, SourceError
from .inference import Stylizer, pick_device, preferred_variant
from .model import MIN_INPUT_SIDE
from .pipeline import Pipeline
from .recording import check_video_target
from .weights import default_style_dirs, load_styles, scan_styles, user_styles_dir

log = logging.getLogger(__name__)

DEFAULT_CAMERA = "0"
# Live on a CPU the network runs with this long side unless told otherwise: measured 12.9 fps
# against 3-4.5 fps at full 640x480 on a 2-core machine (benchmarks/RESULTS.md, Speed).
CPU_LIVE_INFER_SIZE = 320
# Upper bounds that catch typos (an extra zero) before they allocate gigabytes.
MAX_PIXELS_SIDE = 16384
MAX_FPS = 1000.0


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def pixel_size(text: str) -> int:
    value = positive_int(text)
    if value > MAX_PIXELS_SIDE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PIXELS_SIDE} pixels, got {text}")
    return value


def infer_pixels(text: str) -> int:
    """--infer-size: the network's smallest input (reflection padding) up to MAX_PIXELS_SIDE."""
    value = pixel_size(text)
    if value < MIN_INPUT_SIDE:
        raise argparse.ArgumentTypeError(
            f"must be at least {MIN_INPUT_SIDE} pixels, the network's smallest input, got {text}"
        )
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not 0 < value < math.inf:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def frame_rate(text: str) -> float:
    value = positive_float(text)
    if value > MAX_FPS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_FPS:g} fps, got {text}")
    return value


def unit_float(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def scale_float(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:  # 0 would shrink every frame to the 4-pixel minimum
        raise argparse.ArgumentTypeError(f"must be above 0 and at most 1, got {text}")
    return value


def existing_dir(text: str) -> Path:
    """A folder that exists: a typo in --styles-dir must not quietly load no extra styles."""
    path = Path(text)
    if not path.is_dir():
        reason = "not a folder" if path.exists() else "no such folder"
        raise argparse.ArgumentTypeError(f"{text}: {reason}")
    return path


def add_styles_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--styles-dir",
        type=existing_dir,
        action="append",
        default=[],
        help="extra folder of .safetensors styles (repeatable)",
    )


def add_style_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that runs styles."""
    add_styles_dir_option(parser)
    parser.add_argument(
        "--variant",
        choices=("auto", "standard", "lite"),
        default="auto",
        help="network variant when a style has several (auto: by device)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--precision",
        choices=("auto", "fp16", "fp32"),
        default="auto",
        help="auto: fp16 on CUDA, fp32 elsewhere",
    )
    parser.add_argument(
        "--infer-size",
        type=infer_pixels,
        default=None,
        metavar="PX",
        help="run the network with the frame's long side at PX, then scale up",
    )
    parser.add_argument(
        "--infer-scale",
        type=scale_float,
        default=1.0,
        metavar="S",
        help="run the network at this fraction of the frame size",
    )
    parser.add_argument(
        "--strength", type=unit_float, default=1.0, help="blend of stylized over original, 0..1"
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "torch", "onnxruntime"),
        default="auto",
        help="auto: ONNX Runtime on the CPU when installed, CUDA graphs on CUDA; "
        "torch: plain PyTorch",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="stylize a camera, video or the demo live (default command)")
    p.add_argument(
        "--source",
        default=None,
        help="camera index, video file, stream URL or 'demo' (default: camera 0, "
        "or the demo when there is no camera)",
    )
    p.add_argument("--width", type=pixel_size, default=None, help="requested capture width")
    p.add_argument("--height", type=pixel_size, default=None, help="requested capture height")
    p.add_argument("--fps", type=frame_rate, default=None, help="requested capture rate")
    p.add_argument("--loop", action="store_true", help="repeat a video file")
    p.add_argument("--style", default=None, help="style to start with (name)")
    add_style_options(p)
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="PATH",
        help="record the stylized stream from the start to PATH (.mp4)",
    )
    p.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
        help="folder for recordings and snapshots (default: here)",
    )
    p.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    p.add_argument(
        "--max-frames",
        type=positive_int,
        default=None,
        help="stop after capturing this many frames",
    )
    p.add_argument("--fullscreen", action="store_true", help="start in full screen")
    p.set_defaults(func=run)


def load_stylizer(args: argparse.Namespace) -> Stylizer:
    """Find and load every installed style for the device; raise a one-line error if none."""
    try:
        device = pick_device(args.device)
    except (ValueError, RuntimeError) as exc:
        raise LivestyleError(f"device {args.device}: {exc}") from exc
    variant = preferred_variant(device) if args.variant == "auto" else args.variant
    dirs = [*args.styles_dir, *default_style_dirs()]
    for folder in args.styles_dir:
        if not folder.is_dir():
            raise LivestyleError(f"styles folder {folder} does not exist")
    styles = load_styles(scan_styles(dirs, prefer_variant=variant))
    if not styles:
        raise LivestyleError(
            f"no styles installed: put .safetensors styles in {user_styles_dir()} "
            "or train one with 'livestyle train --style-image PAINTING --data PHOTOS --name NAME'"
        )
    try:
        stylizer = Stylizer(
            styles,
            device,
            args.precision,
            infer_size=args.infer_size,
            infer_scale=args.infer_scale,
            strength=args.strength,
            backend=getattr(args, "backend", "auto"),
        )
    except ValueError as exc:  # e.g. --backend onnxruntime with --device cuda
        raise LivestyleError(f"backend: {exc}") from exc
    if getattr(args, "style", None):
        try:
            stylizer.select(stylizer.find(args.style))
        except KeyError:
            names = ", ".join(s.info.name for s in stylizer.styles)
            raise LivestyleError(f"unknown style '{args.style}' (installed: {names})") from None
    log.debug("%d styles on %s (%s)", len(stylizer.styles), stylizer.device, stylizer.dtype)
    return stylizer


def open_live_source(args: argparse.Namespace) -> FrameSource:
    """The requested source; with none requested, camera 0 or else the demo, said in one line."""
    if args.source is not None:
        return open_source(args.source, args.width, args.height, args.fps)
    try:
        return open_source(DEFAULT_CAMERA, args.width, args.height, args.fps)
    except SourceError:
        print(
            "livestyle: no camera found; showing the built-in demo "
            "(use --source VIDEO_FILE to play a video)",
            file=sys.stderr,
        )
        return open_source(DEMO, args.width, args.height, args.fps)


def use_cpu_live_size(stylizer: Stylizer, args: argparse.Namespace) -> None:
    """Keep the live view fluid on a CPU: a smaller network input, scaled up for display."""
    if stylizer.device.type != "cpu" or args.infer_size is not None or args.infer_scale != 1.0:
        return
    stylizer.infer_size = CPU_LIVE_INFER_SIZE
    log.info(
        "CPU: the network runs at %d px for a fluid picture (--infer-size 640 for more detail)",
        CPU_LIVE_INFER_SIZE,
    )


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        require_display()  # before loading anything: Qt would abort the process instead
    if args.record is not None:
        check_video_target(args.record)
    if not args.headless:
        prepare_out_dir(args.out_dir)
    stylizer = load_stylizer(args)
    use_cpu_live_size(stylizer, args)
    source = open_live_source(args)
    pipeline = Pipeline(
        source, stylizer, loop=args.loop, max_frames=args.max_frames, out_dir=args.out_dir
    )
    if args.headless:
        return run_headless(pipeline, args.record)
    from .window import run_window  # Qt is imported only when a window is wanted

    return run_window(pipeline, args)


def prepare_out_dir(folder: Path) -> None:
    """The folder for R recordings and S snapshots, made when missing (as stylize's -o is):
    `livestyle --out-dir captures` should work without a mkdir first."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission
        raise OutputError(f"output folder {folder}: {exc.strerror or exc}") from exc


# Signals that end a headless run cleanly (recording finalized), exit code 128 + number.
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def run_headless(pipeline: Pipeline, record: Path | None) -> int:
    """Run until the source ends, --max-frames or a signal; print a one-line summary.

    Exit code: 1 if a thread or the recording failed, else 128 + signal number if a signal
    ended the run, else 0.
    """
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    try:
        if record is not None:
            pipeline.start_recording(record)
        pipeline.start()
        while pipeline.running and not stop.is_set():
            stop.wait(0.05)
    finally:
        pipeline.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print(pipeline.summary())
    if pipeline.error is not None:
        print(f"livestyle: error: {error_text(pipeline.error)}", file=sys.stderr)
        return 1
    if pipeline.recording_error is not None:
        print(f"livestyle: error: {pipeline.recording_error}", file=sys.stderr)
        return 1
    return 128 + received[0] if received else 0


def error_text(exc: BaseException) -> str:
    """One line for an error from a thread: a bug's type is part of what to report."""
    if isinstance(exc, LivestyleError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
