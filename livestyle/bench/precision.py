"""Half precision against float32: PSNR of the pictures a user sees."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from livestyle.engines.frames import bgr_to_input, output_to_bgr
from livestyle.engines.layout_norm import with_layout_norm
from livestyle.video.files import decode_image, find_images, fit_long_side


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 images in dB (inf when identical)."""
    mse = float(np.mean((reference.astype(np.float64) - image.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse))


def load_photos(folder: Path, long_side: int) -> list[np.ndarray]:
    """Every photo in `folder` as BGR uint8, scaled down so its long side is `long_side`."""
    images = (decode_image(path) for path in find_images(folder))
    return [fit_long_side(image, long_side) for image in images if image is not None]


@torch.inference_mode()
def precision_psnr(
    model: nn.Module,
    photos: Sequence[np.ndarray],
    device: torch.device,
    dtype: torch.dtype,
    layout_norm: bool = False,
) -> list[float]:
    """PSNR (dB) of each photo stylized in `dtype` against the same network in float32.

    Compared as the uint8 pictures a user sees. On CUDA use float16; on the CPU bfloat16
    serves as a smoke test of the same code.
    """
    reference = copy.deepcopy(model).to(device, torch.float32).eval()
    low = with_layout_norm(model) if layout_norm else copy.deepcopy(model)
    low = low.to(device, dtype).eval()
    if device.type == "cuda":
        low = low.to(memory_format=torch.channels_last)
    scores = []
    for photo in photos:
        frame = torch.from_numpy(np.ascontiguousarray(photo)).to(device)
        expected = output_to_bgr(reference(bgr_to_input(frame, torch.float32)))
        got = output_to_bgr(low(bgr_to_input(frame, dtype)))
        scores.append(psnr(expected.cpu().numpy(), got.cpu().numpy()))
    return scores
