"""Does guided detail (--guided, engines.frames.guided_upscale) earn its place at the live CPU
setting (the network at 320 px, the frame scaled up)? Two numbers for each frame size:

- detail kept: the Pearson correlation between the gradient magnitudes (Sobel) of the
  stylized picture's lightness and the frame's, at the frame's size, averaged over the
  shipped styles: how much of the frame's structure (eyes, glasses rims, hair) the picture
  shows. The same network run at the frame's size is printed beside it for scale.
- cost: ms per frame of stylize_frame with and without it on one thread (ONNX engine, as
  live on a CPU), medians of 20 frames over 6 rounds, best round.

It also writes a side-by-side crop (frame, plain bilinear, guided) to --sheet.

Run: python benchmarks/probes/guided_detail.py [--sheet docs/guided_detail.jpg]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.bench.timing import time_rounds
from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.engines.frames import stylize_frame, torch_threads
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.files import read_image

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PHOTOS = ("skimage_astronaut.png", "matplotlib_grace_hopper.jpg")
CLIP = SHARED / "clips" / "grid_bbaf2n.mpg"
NETWORK_SIDE = 320  # the live CPU setting
FRAME_SIDES = (640, 1280)
FACE_HEIGHTS = (0.25, 0.3, 0.5)  # where each test frame's face is, in units of its height


def test_frames() -> list[np.ndarray]:
    frames = [read_image(SHARED / "photos" / "pypi_bundled" / name) for name in PHOTOS]
    capture = cv2.VideoCapture(str(CLIP))
    ok, frame = capture.read()
    if ok:
        frames.append(frame)
    return frames


def at_side(image: np.ndarray, side: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = side / max(height, width)
    size = (round(width * scale), round(height * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def gradient_magnitude(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


def detail_kept(stylized: np.ndarray, frame: np.ndarray) -> float:
    a, b = gradient_magnitude(stylized).ravel(), gradient_magnitude(frame).ravel()
    return float(np.corrcoef(a, b)[0, 1])


def run(frame: np.ndarray, net, net_shape: tuple[int, int], guided: bool) -> np.ndarray:
    with torch_threads(1):
        image = torch.from_numpy(np.ascontiguousarray(frame))
        out = stylize_frame(image, net, torch.float32, net_shape, None, False, guided=guided)
    return out.numpy()


def cost_ms(frame: np.ndarray, net, net_shape: tuple[int, int], guided: bool) -> float:
    """The best of 6 rounds' medians of 20 frames (each round warmed by one)."""
    calls = {"cost": lambda _: run(frame, net, net_shape, guided)}
    return time_rounds(calls, rounds=6, runs=20, warmup=1)["cost"].best_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sheet", type=Path, default=None, help="write the crops here")
    args = parser.parse_args()
    styles = load_styles(scan_styles([PACKAGE_WEIGHTS_DIR], prefer_variant="lite"))
    stylizer = Stylizer(styles, "cpu", backend="onnxruntime")
    nets = [stylizer.engine.network(i) for i in range(len(styles))]
    frames = test_frames()
    crops = []
    for side in FRAME_SIDES:
        scores: dict[str, list[float]] = {"bilinear": [], "guided": [], "network at frame size": []}
        for photo in frames:
            frame = at_side(photo, side)
            height, width = frame.shape[:2]
            small = NetworkSize(NETWORK_SIDE).shape(height, width)
            for i, net in enumerate(nets):
                plain, guided = run(frame, net, small, False), run(frame, net, small, True)
                scores["bilinear"].append(detail_kept(plain, frame))
                scores["guided"].append(detail_kept(guided, frame))
                if side == FRAME_SIDES[0]:
                    full = run(frame, net, (height, width), False)
                    scores["network at frame size"].append(detail_kept(full, frame))
                    if i == 0:
                        face = FACE_HEIGHTS[len(crops)]
                        crops.append(_crop_row(frame, plain, guided, face))
        frame = at_side(frames[0], side)
        small = NetworkSize(NETWORK_SIDE).shape(*frame.shape[:2])
        plain_ms, guided_ms = (cost_ms(frame, nets[0], small, g) for g in (False, True))
        kept = ", ".join(f"{k} {statistics.mean(v):.3f}" for k, v in scores.items() if v)
        print(f"{side} px frame, network at {small[1]}x{small[0]}: detail kept: {kept}")
        print(
            f"  cost: bilinear {plain_ms:.1f} ms, guided {guided_ms:.1f} ms "
            f"({guided_ms / plain_ms:.2f}x)"
        )
    if args.sheet:
        cv2.imwrite(str(args.sheet), np.vstack(crops), [cv2.IMWRITE_JPEG_QUALITY, 85])
        print(f"wrote {args.sheet}")


def _crop_row(frame: np.ndarray, plain: np.ndarray, guided: np.ndarray, face: float) -> np.ndarray:
    """200x200 around the face of each picture, shown 1.5 times the size."""
    height, width = frame.shape[:2]
    top, left = max(0, round(height * face) - 100), max(0, width // 2 - 100)
    tiles = [image[top : top + 200, left : left + 200] for image in (frame, plain, guided)]
    return cv2.resize(np.hstack(tiles), None, fx=1.5, fy=1.5, interpolation=cv2.INTER_NEAREST)


if __name__ == "__main__":
    main()
