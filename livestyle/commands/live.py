"""`livestyle live`: open the source, load every style, run the pipeline in a window or headless."""

from __future__ import annotations

import argparse
import glob
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from livestyle.commands.options import (
    add_style_options,
    existing_dir,
    frame_rate,
    load_stylizer,
    pixel_size,
    positive_int,
    stroke_scale,
    style_options_from_args,
)
from livestyle.config import LiveConfig
from livestyle.core.crashlog import error_line
from livestyle.core.errors import LivestyleError, OutputError, SourceError, error_text
from livestyle.core.signals import install_stop_handlers, restore_handlers
from livestyle.live.adaptive import SizeGovernor, target_rate
from livestyle.live.audio import default_device
from livestyle.live.pipeline import Pipeline
from livestyle.live.recorder import check_video_target
from livestyle.presets import (
    Presets,
    choose_saved_style,
    current_presets,
    fill_options,
    load_presets,
    save_presets,
)
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.ui.display import require_display
from livestyle.video.demo import DEMO
from livestyle.video.output import recover
from livestyle.video.sources import FrameSource, open_source

log = logging.getLogger(__name__)


DEFAULT_CAMERA = "0"
DEFAULT_MICROPHONE = "auto"  # --audio without a device: the platform's default one


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="stylize a camera, video or the demo live (default command)")
    p.add_argument(
        "--source",
        default=None,
        help="camera index, video file, stream URL, 'demo' (a built-in looping clip of a "
        "face) or 'demo-scene' (drawn shapes, no files needed) (default: camera 0, or the "
        "demo when there is no camera)",
    )
    p.add_argument("--width", type=pixel_size, default=None, help="requested capture width")
    p.add_argument("--height", type=pixel_size, default=None, help="requested capture height")
    p.add_argument("--fps", type=frame_rate, default=None, help="requested capture rate")
    p.add_argument("--loop", action="store_true", help="repeat a video file")
    p.add_argument(
        "--style", default=None, help="style to start with: a name, or a blend a:0.6,b:0.4"
    )
    add_style_options(p)
    p.add_argument(
        "--stroke-scale",
        type=stroke_scale,
        default=None,  # not given: 1, or the saved network size
        metavar="S",
        help="brush strokes S times larger (the network runs at 320 px on a CPU, 640 on a "
        "GPU, divided by S and by the style's own stroke scale, whatever the camera's "
        "resolution)",
    )
    p.add_argument(
        "--fps-target",
        type=frame_rate,
        default=None,
        metavar="FPS",
        help="the rate the network's size adapts to keep (default: the camera's or the "
        "video's; --infer-size or --infer-scale pins the size instead)",
    )
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        metavar="PATH",
        help="record the stylized stream from the start to PATH (.mp4)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="let --record replace a file that exists (recordings started with R never do)",
    )
    p.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
        help="folder for recordings and snapshots (default: here)",
    )
    p.add_argument(
        "--audio",
        nargs="?",
        const=DEFAULT_MICROPHONE,
        default=None,
        metavar="DEVICE",
        help="record the microphone with the video (M toggles it): FFmpeg's FORMAT:NAME, "
        "default alsa:default on Linux, avfoundation::default on macOS; on Windows name it, "
        "dshow:audio=NAME",
    )
    p.add_argument("--headless", action="store_true", help="no window (servers, tests)")
    p.add_argument(
        "--virtual-cam",
        action="store_true",
        help="also send the stylized stream to a virtual webcam for Zoom, Meet, OBS... "
        "(V toggles it; needs the virtualcam extra and a device: see the README)",
    )
    p.add_argument(
        "--max-frames",
        type=positive_int,
        default=None,
        help="stop after capturing this many frames",
    )
    p.add_argument("--fullscreen", action="store_true", help="start in full screen")
    p.add_argument(
        "--train-data",
        type=existing_dir,
        default=None,
        metavar="DIR",
        help="photos to train on when a painting is dropped on the window "
        "(default: your Pictures folder, when it has some)",
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> LiveConfig:
    return LiveConfig(
        source=args.source,
        width=args.width,
        height=args.height,
        fps=args.fps,
        loop=args.loop,
        max_frames=args.max_frames,
        style_options=style_options_from_args(args, style=args.style),
        stroke_scale=args.stroke_scale,
        fps_target=args.fps_target,
        steady=args.steady,
        record=args.record,
        overwrite=args.overwrite,
        out_dir=args.out_dir,
        headless=args.headless,
        virtual_cam=args.virtual_cam,
        audio=microphone(args.audio),
        fullscreen=args.fullscreen,
        train_data=args.train_data,
    )


def microphone(value: str | None) -> str | None:
    """--audio's device: the one named, or the platform's default for a bare --audio."""
    if value != DEFAULT_MICROPHONE:
        return value
    device = default_device()
    if device is None:
        raise LivestyleError(
            'name the microphone here: --audio "dshow:audio=NAME" (ffmpeg -list_devices true '
            "-f dshow -i dummy lists the names)"
        )
    return device


def open_live_source(config: LiveConfig) -> FrameSource:
    """The requested source; with none requested, camera 0 or else the demo, said in one line."""
    size_and_rate = (config.width, config.height, config.fps)
    if config.source is not None:
        return open_source(config.source, *size_and_rate)
    try:
        return open_source(DEFAULT_CAMERA, *size_and_rate)
    except SourceError:
        source = open_source(DEMO, *size_and_rate)
    # After opening: a broken install plays the scene instead (with its own warning).
    shown = "the built-in demo clip" if source.name == DEMO else "the built-in demo scene"
    print(
        f"livestyle: no camera found; playing {shown} "
        "(use --source VIDEO_FILE to play your own video)",
        file=sys.stderr,
    )
    return source


def use_live_size(
    stylizer: Stylizer,
    infer_size: int | None,
    infer_scale: float | None,
    stroke_scale: float | None,
) -> bool:
    """The network's input size live: fixed per device whatever the camera's resolution (so
    strokes keep their size on screen), divided by --stroke-scale and by each style's own
    stroke scale; --infer-size and --infer-scale override it. True when it set the live size
    (which may then adapt to the machine), False when the options pinned one."""
    if infer_size is not None or (infer_scale or 1.0) != 1.0:
        return False
    stylizer.network_size = NetworkSize.live_default(stylizer.device.type, stroke_scale)
    log.info(
        "the network runs at up to %d px whatever the camera's size, divided by each style's "
        "stroke scale, smaller when the machine cannot keep the rate (--stroke-scale changes "
        "the strokes, --infer-size pins the size)",
        stylizer.network_size.long_side,
    )
    return True


def size_governor(
    stylizer: Stylizer, source: FrameSource, fps_target: float | None, *, pinned: bool
) -> SizeGovernor | None:
    """What adapts the live size to the machine, from the size use_live_size set (the top:
    strokes were tuned there) and --fps-target or the source's own rate; None when the
    options pinned the size."""
    top = stylizer.network_size.long_side
    if pinned or top is None:
        if fps_target is not None:
            log.warning(
                "--fps-target has no effect: the network's size is pinned (--infer-size, "
                "--infer-scale, or the size the window saved)"
            )
        return None
    rate = target_rate(fps_target, source.fps)
    log.info("the network's size adapts (at most %d px) to keep %.0f fps", top, rate)
    return SizeGovernor(top, rate)


def run(args: argparse.Namespace) -> int:
    return run_live(config_from_args(args))


def run_live(config: LiveConfig) -> int:
    """`livestyle live` as `config` says: the window, or headless until the source ends."""
    if not config.headless:
        require_display()  # before loading anything: Qt would abort the process instead
    check_outputs(config)
    # The window's choices last between runs; headless runs do what their options say.
    saved = Presets() if config.headless else load_presets()
    given_size = config.style_options.infer_size
    config = fill_options(config, saved)
    options = config.style_options
    stylizer = load_stylizer(options, live=True)
    if options.style is None:
        choose_saved_style(stylizer, saved)
    adapts = use_live_size(stylizer, options.infer_size, options.infer_scale, config.stroke_scale)
    source = open_live_source(config)
    governor = size_governor(stylizer, source, config.fps_target, pinned=not adapts)
    pipeline = Pipeline(
        source,
        stylizer,
        loop=config.loop,
        max_frames=config.max_frames,
        out_dir=config.out_dir,
        steady=config.steady,
        overwrite=config.overwrite,
        governor=governor,
        audio=config.audio,
    )
    if config.virtual_cam:  # opens on the first frame; without a device one line says why
        pipeline.start_virtual_cam()
    if config.headless:
        return run_headless(pipeline, config.record)
    # A size given now is remembered; else the one saved before stays saved.
    infer_size = given_size if given_size is not None else saved.infer_size

    def remember(view: str) -> None:
        save_presets(current_presets(stylizer, view, infer_size))

    return run_in_window(pipeline, config, view=saved.view, on_close=remember)


def check_outputs(config: LiveConfig) -> None:
    """Before anything loads: finish crashed recordings, refuse a --record target that cannot
    be written (or is the video played), make the window's output folder."""
    recover_recordings(config.out_dir, config.record)
    if config.record is not None:
        source_file = Path(str(config.source))  # recording over the video played: refused
        played = [source_file] if source_file.is_file() else []
        check_video_target(config.record, config.overwrite, played)
    if not config.headless:
        prepare_out_dir(config.out_dir)


def run_in_window(
    pipeline: Pipeline,
    config: LiveConfig,
    view: str | None,
    on_close: Callable[[str], None],
) -> int:
    """The live window until it closes; its exit code."""
    # Qt (and the painting trainer the window offers) is imported only when a window is wanted.
    from livestyle.addstyle import AdderOptions
    from livestyle.ui.window import run_window

    adder = AdderOptions(
        styles_dirs=config.style_options.styles_dirs,
        variant=config.style_options.variant,
        train_data=config.train_data,
    )
    return run_window(
        pipeline,
        out_dir=config.out_dir,
        record=config.record,
        fullscreen=config.fullscreen,
        adder=adder,
        view=view,
        on_close=on_close,
    )


def recover_recordings(out_dir: Path, record: Path | None) -> None:
    """Finish what a crash (SIGKILL, power cut) left of earlier recordings: R's in out_dir,
    and --record's, each said in one line (livestyle.video.output.recover)."""
    recover(out_dir, "livestyle-*.partial*.mp4")
    if record is not None:
        folder = record.parent if str(record.parent) else Path(".")
        recover(folder, f"{glob.escape(record.stem)}.partial*{glob.escape(record.suffix)}")


def prepare_out_dir(folder: Path) -> None:
    """The folder for R recordings and S snapshots, made when missing (as stylize's -o is):
    `livestyle --out-dir captures` should work without a mkdir first."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in the way, no permission
        raise OutputError(f"output folder {folder}: {exc.strerror or exc}") from exc


def run_headless(pipeline: Pipeline, record: Path | None) -> int:
    """Run until the source ends, --max-frames or a signal; print a one-line summary.

    Exit code: 1 if a thread or the recording failed, else 128 + signal number if a signal
    ended the run, else 0. A failure's line names the file that holds its traceback.
    """
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = install_stop_handlers(on_signal)
    try:
        if record is not None:
            pipeline.start_recording(record)
        pipeline.start()
        while pipeline.running and not stop.is_set():
            stop.wait(0.05)
    finally:
        pipeline.stop()
        restore_handlers(previous)
    print(pipeline.summary())
    if pipeline.error is not None:
        print(error_line(error_text(pipeline.error), pipeline.error_log), file=sys.stderr)
        return 1
    if pipeline.recording_error is not None:
        print(error_line(pipeline.recording_error, pipeline.error_log), file=sys.stderr)
        return 1
    return 128 + received[0] if received else 0
