"""What each command runs with: one frozen configuration per command, built from the parsed
options in livestyle/commands/ (the only place that sees argparse).

The defaults are the command line's, so a test builds one with only the fields it cares
about. Nothing changes a configuration in place: `dataclasses.replace` makes the changed
copy (live's saved settings fill in what was not given: presets.fill_options).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class StyleOptions:
    """What loading the styles and building the Stylizer takes (commands.options.load_stylizer).

    None says "not given": live's saved settings may fill it in, else the Stylizer's own
    default applies (strength 1, scale 1, colours not kept, marks as painted)."""

    styles_dirs: tuple[Path, ...] = ()  # --styles-dir, before the default folders
    style: str | None = None  # a name, or a blend "a:0.6,b:0.4"
    variant: str = "auto"
    device: str = "auto"
    precision: str = "auto"
    backend: str = "auto"
    infer_size: int | None = None
    infer_scale: float | None = None
    strength: float | None = None
    preserve_color: bool | None = None
    marks: float | None = None  # bolder brushwork (livestyle.brushwork)
    guided: bool = True


@dataclass(frozen=True)
class LiveConfig:
    """`livestyle live`: the source, the styles, what is recorded and where, how it shows."""

    source: str | None = None  # None: camera 0, else the demo
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    loop: bool = False
    max_frames: int | None = None
    style_options: StyleOptions = field(default_factory=StyleOptions)
    stroke_scale: float | None = None  # None: 1, or the saved network size
    fps_target: float | None = None  # the rate the adaptive network size keeps; None: source's
    steady: bool = True
    record: Path | None = None
    overwrite: bool = False
    out_dir: Path = Path(".")
    headless: bool = False
    virtual_cam: bool = False
    audio: str | None = None  # the microphone recordings have sound from (FORMAT:NAME); None: none
    fullscreen: bool = False
    train_data: Path | None = None


@dataclass(frozen=True)
class StylizeConfig:
    """`livestyle stylize`: files in, files out."""

    inputs: tuple[Path, ...]
    output: str | None = None  # a str: a trailing '/' (a folder) would be lost in a Path
    overwrite: bool = False
    style_options: StyleOptions = field(default_factory=StyleOptions)
    steady: bool = True


@dataclass(frozen=True)
class StabilityConfig:
    """`livestyle eval-stability`: the clip, the styles measured on it, where the table goes."""

    video: Path
    styles: tuple[str, ...]  # style names, or ("all",)
    max_frames: int = 90
    long_side: int = 480
    json_path: Path | None = None
    style_options: StyleOptions = field(default_factory=StyleOptions)
    steady: bool = True


@dataclass(frozen=True)
class StylesConfig:
    """`livestyle styles`: where to look, and the variant the live window would load."""

    styles_dirs: tuple[Path, ...] = ()
    variant: str = "auto"
