"""Fuzzing the loaders with hypothesis: random, truncated and mutated bytes (and, for style
files, well-formed safetensors with random metadata) must end in one of the project's own
errors or a valid result; never another exception, a crash or a hang.

The image and video decoders are native code (OpenCV, FFmpeg), so they are fuzzed in a child
process: a segfault or a hang fails the test instead of taking pytest down with it. The
style loader (safetensors is Rust, the rest Python) is fuzzed in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from livestyle.core.errors import LivestyleError, WeightsError
from livestyle.model import VARIANTS, TransformerNet
from livestyle.weights import StyleInfo, load_style, read_style_infos, save_style

REPO = Path(__file__).resolve().parent.parent
FUZZ = settings(
    database=None,  # nothing written into the checkout
    deadline=timedelta(seconds=5),  # generous: the CI machine is shared
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def mutated(seed: bytes, data: st.DataObject) -> bytes:
    """seed cut short and/or with a few bytes overwritten (most in the header)."""
    blob = bytearray(seed)
    for _ in range(data.draw(st.integers(0, 6), label="mutations")):
        limit = min(len(blob), data.draw(st.sampled_from([64, 512, len(blob)]))) or 1
        position = data.draw(st.integers(0, limit - 1), label="position")
        if position < len(blob):
            blob[position] = data.draw(st.integers(0, 255), label="byte")
    cut = data.draw(st.integers(0, len(blob)), label="length")
    return bytes(blob[:cut]) if data.draw(st.booleans(), label="truncate") else bytes(blob)


def any_bytes(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, or a real file mutated and truncated."""
    return st.one_of(
        st.binary(max_size=2048),
        st.builds(lambda seed, data: mutated(seed, data), st.sampled_from(seeds), st.data()),
    )


# --- images and videos (run in a child process by the tests below) ---
def image_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (12, 16, 3), np.uint8)
    seeds = []
    for suffix in (".png", ".jpg", ".bmp", ".webp", ".tiff"):
        ok, encoded = cv2.imencode(suffix, image)
        if ok:
            seeds.append(encoded.tobytes())
    return seeds


def video_seeds(folder: Path) -> list[tuple[str, bytes]]:
    rng = np.random.default_rng(1)
    seeds = []
    for suffix, fourcc in ((".mp4", "mp4v"), (".avi", "MJPG")):
        path = folder / f"seed{suffix}"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (16, 12))
        for _ in range(4):
            writer.write(rng.integers(0, 256, (12, 16, 3), np.uint8))
        writer.release()
        seeds.append((suffix, path.read_bytes()))
    return seeds


def fuzz_decoders(folder: Path, examples: int) -> None:
    """Entry point of the child process: fuzz read_image, then open_source + read. Inputs
    are written into folder; last-input.bin there is the one a native crash leaves behind."""
    from livestyle.video.files import read_image
    from livestyle.video.sources import open_source

    last_input = folder / "last-input.bin"
    images = image_seeds()
    videos = video_seeds(folder)

    @settings(FUZZ, max_examples=examples)
    @given(any_bytes(images), st.sampled_from([".png", ".jpg", ".bin"]))
    def image_loader(blob: bytes, suffix: str) -> None:
        last_input.write_bytes(blob)
        path = folder / f"input{suffix}"
        path.write_bytes(blob)
        try:
            image = read_image(path)
        except LivestyleError:
            return
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3

    @settings(FUZZ, max_examples=examples // 2)
    @given(st.sampled_from(videos).flatmap(lambda v: st.tuples(st.just(v[0]), any_bytes([v[1]]))))
    def video_source(case: tuple[str, bytes]) -> None:
        suffix, blob = case
        last_input.write_bytes(blob)
        path = folder / f"input{suffix}"
        path.write_bytes(blob)
        try:
            source = open_source(str(path))
        except LivestyleError:
            return
        try:
            assert source.fps > 0
            for _ in range(8):
                frame = source.read()
                if frame is None:
                    break
                assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        except LivestyleError:
            pass
        finally:
            source.close()

    image_loader()
    video_source()


def test_image_and_video_decoders_survive_garbage(tmp_path: Path) -> None:
    last_input = tmp_path / "last-input.bin"  # written by the child before each decode
    code = (
        "import sys; from pathlib import Path; from tests.test_fuzz import fuzz_decoders; "
        "fuzz_decoders(Path(sys.argv[1]), int(sys.argv[2]))"
    )
    try:
        child = subprocess.run(
            [sys.executable, "-c", code, str(tmp_path), "240"],
            cwd=REPO,
            env={**os.environ, "OPENCV_LOG_LEVEL": "OFF", "OPENCV_FFMPEG_LOGLEVEL": "-8"},
            capture_output=True,
            encoding="utf-8",
            errors="replace",  # FFmpeg echoes the garbage it was fed
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"a decoder hung; the input is in {last_input}")
    crashed = child.returncode < 0
    assert child.returncode == 0, (
        f"{'decoder crashed (signal ' + str(-child.returncode) + ')' if crashed else 'failed'}; "
        f"last input in {last_input}\n{child.stdout[-4000:]}\n{child.stderr[-4000:]}"
    )


# --- style files (in-process) ---
@pytest.fixture(scope="module")
def style_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("fuzz-style")
    torch.manual_seed(0)
    info = StyleInfo("seed", VARIANTS["lite"], title="T", artist="A", year="1900", licence="pd")
    path = save_style(folder / "seed.safetensors", TransformerNet(VARIANTS["lite"]), info)
    return path.read_bytes()


def load_or_weights_error(path: Path) -> None:
    """The loader's contract: a usable style or a one-line WeightsError naming the file."""
    try:
        model, info = load_style(path)
    except WeightsError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message
        return
    assert isinstance(model, TransformerNet) and info.path == path


@settings(FUZZ, max_examples=120)
@given(blob=st.data())
def test_style_loader_on_random_and_damaged_files(
    tmp_path: Path, style_bytes: bytes, blob: st.DataObject
) -> None:
    path = tmp_path / "x.safetensors"
    path.write_bytes(blob.draw(any_bytes([style_bytes])))
    load_or_weights_error(path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
CONFIGS = st.one_of(
    JSON.map(json.dumps),
    st.fixed_dictionaries(
        {
            "widths": st.lists(st.integers(-2, 10**6), max_size=4),
            "res_blocks": st.integers(-2, 10**4),
        }
    ).map(json.dumps),
    st.text(max_size=20),
    st.just("[" * 5000),  # deep nesting
)


@settings(FUZZ, max_examples=160)
@given(
    meta=st.fixed_dictionaries(
        {},
        optional={
            "format": st.sampled_from(["livestyle", "other"]) | st.text(max_size=4),
            "name": st.text(max_size=8),
            "config": CONFIGS,
            "order": st.text(max_size=6) | st.integers().map(str),
            "training": JSON.map(json.dumps) | st.text(max_size=6),
        },
    )
)
def test_style_metadata_is_untrusted_input(tmp_path: Path, meta: dict[str, str]) -> None:
    path = tmp_path / "meta.safetensors"
    tensors = {"down.0.conv.weight": torch.zeros(2, 3, 1, 1, dtype=torch.float16)}
    save_file(tensors, str(path), metadata={"format": "livestyle", **meta})
    try:
        info = read_style_infos(path)[0]
    except WeightsError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    assert info.path == path
    load_or_weights_error(path)
