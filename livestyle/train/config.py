"""What a training run is told: `TrainConfig`, built from `livestyle train`'s options by
livestyle.commands.train.config_from_args, or in a test from the few fields it cares about.

The defaults are the command line's: the tuned recipe. A config checks its numbers when it
is made (`__post_init__`), with the messages the command line has always given, so that no
run starts from an impossible one. It is frozen: a changed copy is `dataclasses.replace`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from livestyle.core.errors import LivestyleError
from livestyle.train.paintings import Painting

AMP_CHOICES = ("auto", "off", "fp16", "bf16")
# Where the local style term asks for marks (losses.local_style_where).
LOCAL_STYLE_WHERE = ("all", "off-faces", "flat")


# Tuned on Starry Night with the lite variant and EfficientNet-Lite0: style weight 10 wiped
# out faces by step 100; 3 keeps them while the palette and strokes carry.
@dataclass(frozen=True)
class LossWeights:
    """The weight of each loss term, named as the term is (0 turns a term off)."""

    content: float = 1.0
    style: float = 3.0
    tv: float = 1e-4
    temporal: float = 5.0
    color: float = 0.0
    teacher: float = 10.0  # counts only with a --teacher
    # Counts only with --faces: the content term inside the photos' faces counts 1 + face
    # times, so the strokes that carry the style elsewhere do not wipe out faces (issue 25).
    face: float = 0.0
    # The output's 2x2 sub-pixel phases kept alike over areas (losses.grid_loss): against
    # the lite network's colour grid under heavier style weights.
    grid: float = 0.0
    # The style term again per part of the picture (losses.local_style_loss): marks on flat
    # areas too, not only where the photo has edges.
    local_style: float = 0.0

    def by_term(self) -> dict[str, float]:
        """Each weight under its loss term's name (the trainer's loss dict keys)."""
        return asdict(self)


@dataclass(frozen=True)
class Outputs:
    """Where a run writes, and how often."""

    out: str | None = None  # the style file; overrides out_dir
    out_dir: str | None = None  # None: the user's styles folder
    run_dir: str | None = None  # None: runs/NAME
    preview_every: int = 100  # 0: only the final preview
    checkpoint_every: int = 200  # 0: no checkpoints
    preview_image: str | None = None  # None: one of the training photos
    progress: str = "bar"  # or "lines": `progress STEP TOTAL` on stdout, for programs


@dataclass(frozen=True)
class TrainConfig:
    """A training run: what it learns, how, and what it writes."""

    paintings: tuple[Painting, ...] = ()
    data: str = ""
    max_photos: int = 0  # 0: every photo
    variant: str = "lite"
    add_to: str | None = None  # the network file the new styles grow (resolved)
    retune: bool = False
    network_name: str | None = None
    steps: int = 1000
    size: int = 256
    batch: int = 4
    # lr 1e-3 (Johnson's): the 8/16/32 lite network once trained faster at 3e-3, but the
    # 16/32/64 one paints saturated green blobs there within 300 steps (benchmarks/RESULTS.md).
    lr: float = 1e-3
    weights: LossWeights = field(default_factory=LossWeights)
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    threads: int = 0  # 0: every core
    max_minutes: float = 0.0  # 0: no time box
    resume: str | None = None
    loss_net: str = "efficientnet-lite0"
    vgg_weights: str | None = None
    download_vgg: bool = False
    teacher: str | None = None
    faces: str | None = None  # the photos' face boxes (benchmarks/quality/face_boxes.py)
    init_from: str | None = None  # a trained network whose weights every parameter starts at
    grain: float = 0.0  # the canvas grain's strength as a 4th input (livestyle/grain.py); 0: none
    flat_patches: float = 0.0  # chance of a crop getting a textureless part (losses.flat_patches)
    local_style_where: str = "all"  # one of LOCAL_STYLE_WHERE
    style_size: int | None = None  # None: size * long side / 1080
    # The painting at a second size too: each tap's target is the mean of both sizes' Grams.
    also_style_size: int | None = None
    outputs: Outputs = field(default_factory=Outputs)

    def __post_init__(self) -> None:
        problems = _number_problems(self)
        if problems:
            raise LivestyleError(problems[0])
        if self.weights.face > 0 and not self.faces:
            raise LivestyleError(
                "--face-weight needs --faces FILE, the photos' face boxes "
                "(benchmarks/quality/face_boxes.py writes it)"
            )
        if self.local_style_where == "off-faces" and not self.faces:
            raise LivestyleError("--local-style-where off-faces needs --faces FILE")
        if self.local_style_where == "flat" and not self.flat_patches:
            raise LivestyleError("--local-style-where flat needs --flat-patches CHANCE")

    @property
    def needs_face_masks(self) -> bool:
        """Whether each step draws its crops' face masks: for the content term inside faces
        or to keep the local style term off them."""
        return self.weights.face > 0 or self.local_style_where == "off-faces"


def _number_problems(config: TrainConfig) -> list[str]:
    """Every impossible number, first the one the command line has always named first."""
    problems = []
    for option, value in (("steps", config.steps), ("size", config.size), ("batch", config.batch)):
        if value <= 0:
            problems.append(f"--{option} must be a positive number, not {value}")
    if config.max_minutes < 0 or not math.isfinite(config.max_minutes):
        problems.append(f"--max-minutes must be >= 0, not {config.max_minutes}")
    if not 0 <= config.grain <= 100:  # NaN fails both
        problems.append(f"--grain must be a strength from 0 to 100, not {config.grain}")
    if not 0 <= config.flat_patches <= 1:
        problems.append(f"--flat-patches must be a chance from 0 to 1, not {config.flat_patches}")
    if config.local_style_where not in LOCAL_STYLE_WHERE:
        problems.append(
            f"--local-style-where must be one of {', '.join(LOCAL_STYLE_WHERE)}, "
            f"not {config.local_style_where!r}"
        )
    counts = {
        "preview-every": config.outputs.preview_every,
        "checkpoint-every": config.outputs.checkpoint_every,
        "threads": config.threads,
        "max-photos": config.max_photos,
    }
    problems += [f"--{option} must be >= 0" for option, value in counts.items() if value < 0]
    for option, value in (
        ("style-size", config.style_size),
        ("also-style-size", config.also_style_size),
    ):
        if value is not None and value <= 0:
            problems.append(f"--{option} must be a positive number, not {value}")
    if config.lr <= 0 or not math.isfinite(config.lr):
        problems.append(f"--lr must be a positive number, not {config.lr}")
    for term, value in config.weights.by_term().items():
        if value < 0 or not math.isfinite(value):
            problems.append(f"--{term}-weight must be >= 0, not {value}")
    return problems
