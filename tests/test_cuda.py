"""The GPU path on a real GPU: precision, graphs against eager, swaps, out of memory, the live
pipeline with recording, training under autocast.

Marked `cuda` and skipped without CUDA; `benchmarks/gpu/gpu_session.py` runs them on a lent GPU
(`pytest -m cuda tests/test_cuda.py`). Everything around the GPU is tested on the CPU in
test_fast_paths.py, test_faults.py and test_train.py.
"""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livestyle.bench.precision import load_photos, psnr
from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.live.pipeline import Pipeline
from livestyle.model import VARIANTS, TransformerNet
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import StyleInfo

# LIVESTYLE_CUDA_DRY_RUN=1 runs these on the CPU in bfloat16 at small sizes (gpu_session.py
# --dry-run, in CI): the code paths are proven there, the thresholds only mean something on
# a GPU.
DRY_RUN = os.environ.get("LIVESTYLE_CUDA_DRY_RUN") == "1"
GPU = torch.device("cpu" if DRY_RUN else "cuda")
ON_GPU = GPU.type == "cuda"  # only then are frame rates and drop counts the hardware's
HALF = "bf16" if DRY_RUN else "fp16"
MIN_PSNR = 25.0 if DRY_RUN else 40.0  # bfloat16 keeps 8 bits of mantissa, float16 11
SIZES = [(128, 72), (192, 108)] if DRY_RUN else [(1280, 720), (1920, 1080)]

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not (DRY_RUN or torch.cuda.is_available()), reason="needs a CUDA GPU"),
]
needs_cuda_allocator = pytest.mark.skipif(DRY_RUN, reason="dry run: needs CUDA's allocator")

REPO = Path(__file__).resolve().parents[1]
# The GPU machine gets the shared data copied into the tree (see gpu_session.py --prepare).
SHARED = Path(os.environ.get("LIVESTYLE_SHARED", REPO.parent / "shared"))
PHOTOS = SHARED / "photos" / "pypi_bundled"


def shipped_styles() -> list[tuple[TransformerNet, StyleInfo]]:
    """Every installed style, standard variants where they exist: trained weights."""
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="standard"))
    if not styles:
        pytest.skip("no trained styles installed")
    return styles


# A dry run's CPU may lack bfloat16 instructions: on an AVX2-only Zen 1 EPYC the standard
# network ran 20x slower in bfloat16 than in float32, and these tests took 638 s where the
# dry run allows 262 (benchmarks/RESULTS.md, round eleven). So a dry run tries fewer styles,
# photos and strengths: every path still runs (graphs, swaps, partial strength), less often.
DRY_PHOTOS, DRY_STRENGTHS = 2, (1.0, 0.3)


def real_photos(long_side: int = 64 if DRY_RUN else 720) -> list[np.ndarray]:
    if not PHOTOS.is_dir():
        pytest.skip(f"needs the shared photos in {PHOTOS} (LIVESTYLE_SHARED)")
    photos = load_photos(PHOTOS, long_side)
    return photos[:DRY_PHOTOS] if DRY_RUN else photos


def tried_styles(count: int) -> list[int]:
    """Every style on a GPU; in a dry run the first, the second and the last."""
    return sorted({0, min(1, count - 1), count - 1}) if DRY_RUN else list(range(count))


def test_half_precision_matches_float32_on_real_photos() -> None:
    """What the user sees in fp16 (graphs, channels-last, layout norm) against float32."""
    styles = shipped_styles()
    half = Stylizer(styles, GPU, HALF, backend="cuda-graph", graph_fallback=False)
    single = Stylizer(styles, GPU, "fp32", backend="torch", channels_last=False)
    scores = []
    for index in tried_styles(len(styles)):
        for photo in real_photos():
            scores.append(
                psnr(single.stylize(photo, index).image, half.stylize(photo, index).image)
            )
    print(f"{HALF} vs fp32 PSNR: min {min(scores):.1f} dB, mean {np.mean(scores):.1f} dB")
    assert min(scores) >= MIN_PSNR


def test_graph_replay_equals_eager_and_swaps_never_recapture() -> None:
    styles = shipped_styles()
    # No cross-fade: each selected style must show on the very next frame.
    graphed = Stylizer(
        styles, GPU, HALF, backend="cuda-graph", graph_fallback=False, fade_seconds=0
    )
    eager = Stylizer(styles, GPU, HALF, backend="torch")
    photo = real_photos()[0]
    for index in [*tried_styles(len(styles)), 0, len(styles) - 1]:
        for strength in DRY_STRENGTHS if DRY_RUN else (1.0, 0.6, 0.3):
            graphed.select(index)
            graphed.strength = eager.strength = strength
            # cudnn.benchmark may pick other kernels for the graph: rounding, not a new image.
            score = psnr(eager.stylize(photo, index).image, graphed.stylize(photo).image)
            assert score >= 45.0, (index, strength, score)
    assert graphed.graph_captures == 1


def test_original_colours_toggle_as_data_and_never_recapture() -> None:
    styles = shipped_styles()
    graphed = Stylizer(styles, GPU, HALF, backend="cuda-graph", graph_fallback=False)
    eager = Stylizer(styles, GPU, HALF, backend="torch")
    frame = DemoSource(*SIZES[0]).read()
    shown = {}
    for keep in (False, True, False, True):
        graphed.preserve_color = eager.preserve_color = keep
        shown[keep] = graphed.stylize(frame).image
        score = psnr(eager.stylize(frame).image, shown[keep])
        assert score >= 45.0, (keep, score)
    assert psnr(shown[False], shown[True]) < 40.0  # the toggle changed the picture
    assert graphed.graph_captures == 1


def test_a_grain_network_in_graphs_paints_as_float32_at_each_size(tmp_path: Path) -> None:
    """The canvas grain (a 4th input the network makes for itself, one field per size, kept
    while that size's graph is) captured into frame graphs at two sizes: the same picture as
    float32 eager, and the first size still right after the second was captured."""
    from dataclasses import replace

    from livestyle.discovery import PACKAGE_WEIGHTS_DIR
    from livestyle.model import style_views
    from livestyle.train.plan import start_from
    from livestyle.weights import load_network

    path = PACKAGE_WEIGHTS_DIR / "paintings.lite.safetensors"
    shipped, infos = load_network(path)
    # The shipped network's own grain, or one for it to start (its grain inputs then at 0).
    grain = shipped.config.grain or 2.0
    net = TransformerNet(replace(VARIANTS["lite"], grain=grain), styles=2)
    start_from(net, path, [infos[0].name, infos[1].name])
    torch.manual_seed(0)
    with torch.no_grad():  # the grain's input weights, as training might leave them
        weight = net.down[1].conv.weight.view(net.down[1].conv.out_channels, 4, 4, 3, 3)
        weight[:, :, 3] = 0.05 * torch.randn_like(weight[:, :, 3])
    styles = [(view, StyleInfo(f"g{i}", view.config)) for i, view in enumerate(style_views(net))]
    graphed = Stylizer(styles, GPU, HALF, backend="cuda-graph", graph_fallback=False)
    single = Stylizer(styles, GPU, "fp32", backend="torch", channels_last=False)
    frames = [DemoSource(*size).read() for size in (*SIZES, SIZES[0])]
    for frame in frames:
        for index in range(2):
            score = psnr(single.stylize(frame, index).image, graphed.stylize(frame, index).image)
            assert score >= MIN_PSNR, (frame.shape, index, score)
    assert graphed.graph_captures == 2


@needs_cuda_allocator
def test_a_real_out_of_memory_is_survived_at_a_smaller_size() -> None:
    net = TransformerNet(VARIANTS["standard"])
    stylizer = Stylizer([(net, StyleInfo("big", net.config))], GPU, "fp16")
    frame = DemoSource(1920, 1080).read()
    gc.collect()  # earlier tests' stylizers and their graph pools
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    stylizer.stylize(frame)
    full_peak = torch.cuda.max_memory_allocated() - base
    stylizer.release_device_memory()
    # The cap counts reserved memory (cached blocks, graph pools), not allocated: from
    # allocated, the first GPU run (H200, 2026-12-04) capped below what was already reserved
    # and no size fitted, down to 192x108.
    reserved = torch.cuda.memory_reserved()
    total = torch.cuda.get_device_properties(0).total_memory
    # Cap this process at half of what a full-size frame needs: the allocator raises a real
    # OutOfMemoryError, the pipeline frees the graphs and shrinks the network input.
    torch.cuda.set_per_process_memory_fraction((reserved + full_peak // 2) / total)
    try:
        shown = []
        pipeline = Pipeline(DemoSource(1920, 1080, fps=30), stylizer, on_frame=shown.append)
        pipeline.start()
        deadline = time.monotonic() + 60
        while len(shown) < 10 and pipeline.running and time.monotonic() < deadline:
            time.sleep(0.05)
        pipeline.stop()
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
    assert pipeline.error is None, pipeline.error
    assert len(shown) >= 10
    net_h, _ = stylizer.network_shape(1080, 1920)
    assert net_h < 1080 and "out of GPU memory" in pipeline.status


@pytest.mark.parametrize("size", SIZES)
def test_headless_pipeline_on_cuda_records_every_frame(tmp_path: Path, size) -> None:
    width, height = size
    out = tmp_path / f"gpu_{width}x{height}.mp4"
    frames = 30 if DRY_RUN else 120
    command = [sys.executable, "-m", "livestyle", "live", "--headless", "--source", "demo-scene"]
    command += ["--width", str(width), "--height", str(height), "--fps", "60"]
    command += ["--max-frames", str(frames), "--record", str(out), "--device", GPU.type]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=REPO)
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    capture = cv2.VideoCapture(str(out))
    decoded, shape = 0, None
    while True:
        ok, image = capture.read()
        if not ok:
            break
        decoded, shape = decoded + 1, image.shape
    capture.release()
    assert shape == (height, width, 3)
    count = summary_counts(done.stdout)
    # By design, whatever the machine's speed: every frame is captured, each is stylized or
    # dropped (the pipeline keeps only the newest), the last one is never replaced so it is
    # stylized, and every stylized frame reaches the file unless the recorder's queue was full.
    assert count["captured"] == frames
    assert count["stylized"] + count["dropped"] == frames
    assert count["stylized"] >= 1
    assert decoded == count["recorded"] >= count["stylized"] - count["recorder dropped"]
    if ON_GPU:  # a GPU keeps up with 60 fps: a few may drop while the graph is captured
        assert count["recorded"] >= frames * 0.9, count


def summary_counts(summary: str) -> dict[str, int]:
    """The frame counts of the headless run's one-line summary (absent ones are 0)."""
    counts = {}
    for name in ("captured", "stylized", "dropped", "recorder dropped"):
        # "dropped N" must not match inside "recorder dropped N"
        found = re.search(rf"(?:^|, ){name} (\d+)", summary, re.MULTILINE)
        counts[name] = int(found.group(1)) if found else 0
    found = re.search(r"recorded (\d+) frames", summary)
    assert found, summary
    counts["recorded"] = int(found.group(1))
    return counts


def test_training_under_half_precision_autocast_trains(tmp_path: Path) -> None:
    from livestyle import cli
    from livestyle.commands.train import DEFAULTS, config_from_args
    from livestyle.train.loop import train
    from livestyle.weights import load_style

    painting = SHARED / "styles" / "vangogh_starry_night.jpg"
    if not (PHOTOS.is_dir() and painting.is_file()):
        pytest.skip(f"needs the shared photos and paintings in {SHARED}")
    argv = ["train", "--style-image", str(painting), "--data", str(PHOTOS), "--name", "gpu"]
    variant, steps, size = ("lite", 6, 96) if DRY_RUN else ("standard", 30, 256)
    argv += ["--variant", variant, "--steps", str(steps), "--size", str(size), "--batch", "4"]
    argv += ["--amp", HALF, "--device", GPU.type, "--out-dir", str(tmp_path / "styles")]
    argv += ["--run-dir", str(tmp_path / "run"), "--preview-every", "0"]
    args = cli.build_parser().parse_args(argv)
    result = train(config_from_args(args))  # as the command does: it resolves the paintings
    totals = [step.losses["total"] for step in result.history]
    assert all(np.isfinite(totals)) and np.mean(totals[-2:]) < 0.9 * totals[0], totals
    torch.manual_seed(DEFAULTS["seed"])
    untrained = TransformerNet(VARIANTS[variant]).state_dict()
    trained = load_style(result.style_path)[0].state_dict()
    assert not [k for k, v in untrained.items() if torch.equal(v, trained[k])]
