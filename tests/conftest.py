"""Shared fixtures: small random-weight styles, a CPU stylizer over them, a short test video."""

from __future__ import annotations

import os

# Before anything imports Qt: tests run without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from livestyle.inference import Stylizer  # noqa: E402
from livestyle.model import VARIANTS, TransformerNet  # noqa: E402
from livestyle.weights import StyleInfo, load_styles, save_style, scan_styles  # noqa: E402

# (name, seed, title, artist, year): lite networks with random weights, in key order.
TEST_STYLES = [
    ("alpha", 1, "First Test Painting", "A. Painter", "1889"),
    ("beta", 2, "Second Test Painting", "B. Painter", "1907"),
    ("gamma", 3, "Third Test Painting", "C. Painter", "1931"),
]
VIDEO_SIZE = (64, 48)  # width, height
VIDEO_FPS = 30.0
VIDEO_FRAMES = 20


def write_test_styles(folder: Path) -> Path:
    """Save TEST_STYLES as .safetensors files into folder; returns the folder."""
    config = VARIANTS["lite"]
    for order, (name, seed, title, artist, year) in enumerate(TEST_STYLES, start=1):
        torch.manual_seed(seed)
        info = StyleInfo(
            name=name,
            config=config,
            title=title,
            artist=artist,
            year=year,
            licence="public domain (test fixture)",
            order=order,
        )
        save_style(folder / f"{name}.lite.safetensors", TransformerNet(config), info)
    return folder


def write_test_video(path: Path, frames: int = VIDEO_FRAMES) -> Path:
    """A small mp4 with a square moving across a gradient, so every frame differs."""
    width, height = VIDEO_SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), VIDEO_FPS, VIDEO_SIZE)
    assert writer.isOpened(), f"cannot write test video {path}"
    gradient = np.linspace(0, 255, width, dtype=np.uint8)
    for i in range(frames):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, :, 0] = gradient
        frame[:, :, 2] = 255 - gradient
        x = (i * 3) % (width - 12)
        frame[18:30, x : x + 12] = (255, 255, 255)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def styles_dir(tmp_path: Path) -> Path:
    """A folder holding three random-weight lite styles: alpha, beta, gamma (in key order)."""
    return write_test_styles(tmp_path / "styles")


@pytest.fixture
def stylizer(styles_dir: Path) -> Stylizer:
    """A CPU stylizer loaded from styles_dir, through the same path the app uses."""
    styles = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    return Stylizer(styles, torch.device("cpu"), "fp32")


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A 64x48, 30 fps, 20-frame mp4v video with moving content."""
    return write_test_video(tmp_path / "clip.mp4")
