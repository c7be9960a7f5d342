"""Test media the tests make themselves: random-weight styles and small generated videos."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.model import VARIANTS, TransformerNet
from livestyle.weights import StyleInfo, save_style


def write_styles(folder: Path, names=("alpha", "beta", "gamma"), variant="lite") -> Path:
    """Random-weight styles (distinct seeds) with full metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        torch.manual_seed(seed)
        net = TransformerNet(VARIANTS[variant])
        info = StyleInfo(
            name,
            net.config,
            title=f"Painting {name}",
            artist="Test Artist",
            year="1900",
            licence="public domain",
            order=seed,
        )
        save_style(folder / f"{name}.{variant}.safetensors", net, info)
    return folder


def write_video(path: Path, frames: int = 20, fps: float = 30.0, size=(64, 48)) -> Path:
    """A clip with a moving square on a gradient, so consecutive frames differ."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    ramp = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
    for i in range(frames):
        frame = np.broadcast_to(ramp, (height, width, 3)).copy()
        x = (i * 3) % (width - 10)
        frame[10:20, x : x + 10] = (40, 200, 240)
        writer.write(frame)
    writer.release()
    return path


def video_frames(path: Path) -> list[np.ndarray]:
    """Every frame OpenCV can decode from path (an unfinalized MP4 gives none)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames
