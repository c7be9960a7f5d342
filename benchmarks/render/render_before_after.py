"""Render docs/train_before_after.jpg: a test photo, the painting, and a trained style's output.

    python benchmarks/render/render_before_after.py --style STYLE.safetensors \\
        [--photo PATH | --clip PATH --at SECONDS] [--painting PATH] [--out docs/...jpg]

By default the photo is a frame of the Tears of Steel clip in ../shared/clips (CC BY 3.0,
Blender Foundation, mango.blender.org): it is not among the training photos. The painting
defaults to the file named in the style's training metadata, looked up in ../shared/styles.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.weights import load_style

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DEFAULT_CLIP = SHARED / "clips" / "tears_of_steel_clip01.mp4"
HEIGHT = 288
GAP = 6


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{path}: not a readable image")
    return image[:, :, ::-1].copy()


def clip_frame(path: Path, seconds: float) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
    ok, frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"{path}: no frame at {seconds} s")
    return frame[:, :, ::-1].copy()


def fit_height(image: np.ndarray, height: int = HEIGHT) -> np.ndarray:
    width = round(image.shape[1] * height / image.shape[0])
    interp = cv2.INTER_AREA if image.shape[0] > height else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interp)


def stylize(style: Path, photo: np.ndarray) -> np.ndarray:
    """Run the network on the photo as the app does: float32, output clamped to [0, 1]."""
    model, _ = load_style(style)
    x = torch.from_numpy(photo).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        y = model(x)[0].clamp(0, 1)
    return (y * 255 + 0.5).byte().permute(1, 2, 0).numpy()


def caption(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.rectangle(tile, (0, tile.shape[0] - 22), (tile.shape[1], tile.shape[0]), (0, 0, 0), -1)
    cv2.putText(
        tile,
        text,
        (6, tile.shape[0] - 7),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.42,
        (255, 255, 255),
        1,
        cv2.LINE_AA,
    )
    return tile


def painting_label(title: str, artist: str, year: str) -> str:
    return ", ".join(part for part in (title, artist, year) if part) or "painting"


def side_by_side(tiles: list[np.ndarray]) -> np.ndarray:
    gap = np.full((tiles[0].shape[0], GAP, 3), 255, np.uint8)
    row: list[np.ndarray] = []
    for tile in tiles:
        row += [tile, gap]
    return np.concatenate(row[:-1], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", required=True, type=Path, help="trained .safetensors style")
    parser.add_argument("--photo", type=Path, help="test photo (default: a frame of --clip)")
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--at", type=float, default=4.0, help="clip time in seconds")
    parser.add_argument("--painting", type=Path, help="default: from the style's metadata")
    parser.add_argument("--out", type=Path, default=Path("docs/train_before_after.jpg"))
    args = parser.parse_args()

    _, info = load_style(args.style)
    painting = args.painting or SHARED / "styles" / info.training.get("painting", "")
    photo = fit_height(read_rgb(args.photo) if args.photo else clip_frame(args.clip, args.at))
    tiles = [
        caption(photo, "test photo"),
        caption(fit_height(read_rgb(painting)), painting_label(info.title, info.artist, info.year)),
        caption(stylize(args.style, photo), f"livestyle train: {info.name} ({info.variant})"),
    ]
    image = side_by_side(tiles)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB, {image.shape[1]}x{HEIGHT})")


if __name__ == "__main__":
    main()
