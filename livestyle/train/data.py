"""Training images: the photos (found, decoded once, kept in memory, cropped at random), the
painting at its training scale, and the preview pictures written to the run folder.

Everything here is RGB: OpenCV decodes BGR, and `decode_rgb` is the one place that converts.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch

from livestyle.core.errors import LivestyleError
from livestyle.core.outputs import replaced_whole
from livestyle.video.files import IMAGE_SUFFIXES, decode_image, find_images

# Photos are decoded once and kept with their short side at most this many times --size:
# enough room for scale jitter, small enough that 6K wallpapers cost no more than COCO.
CACHE_SCALE = 2.0
# Reference long side (px) of a painting at which its strokes are sized for a --size crop.
STYLE_REFERENCE = 1080
# Short side of the preview photo, in units of --size: big enough to judge strokes by eye.
PREVIEW_SCALE = 1.5
# A detected face box grown by this share of its side each way: the Haar box stops at the
# brows and the mouth, and hair and chin are part of a face too.
FACE_MARGIN = 0.15

Box = tuple[int, int, int, int]  # x, y, w, h in the photo's pixels


# ----------------------------------------------------------------------------- decoding


def decode_rgb(path: Path) -> np.ndarray | None:
    """An RGB uint8 image, or None when the file is missing or not a readable image."""
    image = decode_image(path)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def fit_short_side(image: np.ndarray, max_short: int) -> np.ndarray:
    """Scale down (never up) so the short side is at most max_short.

    The short side, not video.files.fit_long_side's long one: crops are squares of the short
    side, so it is what decides how much a crop is scaled.
    """
    short = min(image.shape[:2])
    if short <= max_short:
        return image
    scale = max_short / short
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float in [0, 1]."""
    return torch.from_numpy(image).permute(2, 0, 1).float().div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """(3, H, W) float -> (H, W, 3) uint8 RGB, clamped as the app clamps."""
    return (image.detach().float().clamp(0, 1) * 255 + 0.5).byte().permute(1, 2, 0).cpu().numpy()


# ----------------------------------------------------------------------------- photos


def find_photos(root: Path) -> list[Path]:
    """The image files under `root`, at any depth, sorted; an error when there are none."""
    if not root.is_dir():
        raise LivestyleError(f"--data {root}: no such folder")
    paths = find_images(root, recursive=True)
    if not paths:
        kinds = ", ".join(sorted(suffix.lstrip(".") for suffix in IMAGE_SUFFIXES))
        raise LivestyleError(f"--data {root}: no photos found ({kinds})")
    return paths


def sample_photos(paths: list[Path], count: int, seed: int) -> list[Path]:
    """At most `count` of the photos (0: all), a reproducible random pick in their order: a
    Pictures folder of thousands need not all be decoded for a short run."""
    if count <= 0 or len(paths) <= count:
        return paths
    picked = np.random.default_rng(seed).choice(len(paths), size=count, replace=False)
    return [paths[i] for i in sorted(picked)]


@dataclass(frozen=True)
class Crop:
    """Where one crop comes from: a square of the cached image, maybe mirrored."""

    index: int  # which photo
    top: int
    left: int
    side: int
    mirror: bool

    def apply(self, image: np.ndarray, size: int) -> np.ndarray:
        """This crop of `image` (the photo or its face mask), resized to size x size."""
        patch = image[self.top : self.top + self.side, self.left : self.left + self.side]
        interp = cv2.INTER_AREA if self.side > size else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (size, size), interpolation=interp)
        return patch[:, ::-1] if self.mirror else patch


@dataclass
class PhotoPool:
    """Decoded, downscaled training photos in memory, and random crops from them; with
    --faces, each photo's face mask (255 inside a face, None for a photo without one)."""

    images: list[np.ndarray]
    skipped: int = 0
    paths: list[Path] = field(default_factory=list)
    masks: list[np.ndarray | None] = field(default_factory=list)

    @classmethod
    def load(
        cls, paths: list[Path], size: int, faces: dict[Path, list[Box]] | None = None
    ) -> PhotoPool:
        """Decode every photo once; unreadable (or 1-pixel) ones are counted, not fatal.
        `faces`: each photo's face boxes in its own pixels (a photo not named has none)."""
        max_short = round(size * CACHE_SCALE)

        def decode(path: Path) -> tuple[np.ndarray, np.ndarray | None] | None:
            image = decode_rgb(path)
            if image is None:
                return None
            cached = fit_short_side(image, max_short)
            boxes = (faces or {}).get(path, [])
            return cached, face_mask(cached.shape[:2], image.shape[:2], boxes)

        # Two threads: OpenCV releases the GIL while decoding, and the machine may have 2 cores.
        with ThreadPoolExecutor(max_workers=2) as pool:
            decoded = list(pool.map(decode, paths))
        kept = [
            (p, d) for p, d in zip(paths, decoded, strict=True) if d and min(d[0].shape[:2]) > 1
        ]
        images = [d[0] for _, d in kept]
        masks = [d[1] for _, d in kept] if faces is not None else []
        return cls(images, len(paths) - len(kept), [p for p, _ in kept], masks)

    def draw(self, rng: np.random.Generator, size: int) -> Crop:
        """A random photo and square at a random scale, maybe mirrored."""
        index = int(rng.integers(len(self.images)))
        height, width = self.images[index].shape[:2]
        short = min(height, width)
        # Crop side between half the short side and all of it (at most CACHE_SCALE x size),
        # so objects appear at several scales; tiny photos are simply upscaled.
        low = min(short, max(size // 2, round(short / 2)))
        side = int(rng.integers(low, short + 1))
        top = int(rng.integers(height - side + 1))
        left = int(rng.integers(width - side + 1))
        return Crop(index, top, left, side, bool(rng.random() < 0.5))

    def crop(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """A random square crop at a random scale, resized to size, maybe mirrored."""
        where = self.draw(rng, size)
        return where.apply(self.images[where.index], size)

    def batch(self, rng: np.random.Generator, size: int, count: int) -> torch.Tensor:
        """`count` random crops as one (N, 3, size, size) float batch in [0, 1]."""
        crops = np.stack([self.crop(rng, size) for _ in range(count)])
        return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float() / 255.0

    def batch_with_faces(
        self, rng: np.random.Generator, size: int, count: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The same crops `batch` draws from `rng`, and their face masks cropped alike,
        (N, 1, size, size) in [0, 1] (zeros for a photo without faces)."""
        crops, masks = [], []
        for _ in range(count):
            where = self.draw(rng, size)
            crops.append(where.apply(self.images[where.index], size))
            mask = self.masks[where.index] if self.masks else None
            masks.append(
                np.zeros((size, size), np.uint8) if mask is None else where.apply(mask, size)
            )
        x = torch.from_numpy(np.ascontiguousarray(np.stack(crops))).permute(0, 3, 1, 2).float()
        m = torch.from_numpy(np.ascontiguousarray(np.stack(masks)))[:, None].float()
        return x / 255.0, m / 255.0


# ----------------------------------------------------------------------------- faces


def read_face_boxes(path: Path, root: Path) -> dict[Path, list[Box]]:
    """--faces: each photo's face boxes, by its path under `root` (--data) as find_photos
    gives it; a missing file or one that is not face_boxes.py's JSON is a one-line error."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LivestyleError(f"--faces {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LivestyleError(f"--faces {path}: not a JSON file ({exc})") from None
    photos = record.get("photos") if isinstance(record, dict) else None
    if not isinstance(photos, dict) or not all(_is_boxes(b) for b in photos.values()):
        raise LivestyleError(
            f'--faces {path}: not a face-box file ({{"photos": {{"PHOTO": [[x, y, w, h], '
            "...]}}, as benchmarks/quality/face_boxes.py writes it)"
        )
    return {root / name: [tuple(box) for box in boxes] for name, boxes in photos.items()}


def _is_boxes(boxes: object) -> bool:
    return isinstance(boxes, list) and all(
        isinstance(box, list)
        and len(box) == 4
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in box)
        for box in boxes
    )


def face_mask(
    shape: tuple[int, int], original: tuple[int, int], boxes: list[Box]
) -> np.ndarray | None:
    """A (H, W) uint8 mask of `shape`, 255 inside the boxes (given in the pixels of a photo
    of `original` (H, W) size, scaled as the photo was, each grown by FACE_MARGIN); None
    without boxes, so photos without faces cost no memory."""
    if not boxes:
        return None
    mask = np.zeros(shape, np.uint8)
    sy, sx = shape[0] / original[0], shape[1] / original[1]
    for x, y, w, h in boxes:
        dx, dy = w * FACE_MARGIN, h * FACE_MARGIN
        left, right = round((x - dx) * sx), round((x + w + dx) * sx)
        top, bottom = round((y - dy) * sy), round((y + h + dy) * sy)
        mask[max(0, top) : max(0, bottom), max(0, left) : max(0, right)] = 255
    return mask


# ----------------------------------------------------------------------------- the painting


def load_style_image(path: Path, size: int, style_size: int | None) -> torch.Tensor:
    """The painting as a (1, 3, H, W) tensor, its long side scaled per --style-size.

    Without --style-size the painting keeps its proportion to a STYLE_REFERENCE-px frame, so
    its strokes come out the same size relative to a --size crop whatever the file's size.
    """
    image = decode_rgb(path)
    if image is None and not path.is_file():  # a manifest's were looked for when it was read
        raise LivestyleError(f"--style-image {path}: no such file")
    if image is None:
        kinds = ", ".join(sorted(suffix.lstrip(".") for suffix in IMAGE_SUFFIXES))
        raise LivestyleError(
            f"painting {path}: not a readable image file (--style-image and --manifest take "
            f"{kinds} images)"
        )
    height, width = image.shape[:2]
    long_side = max(height, width)
    target = style_size or max(32, round(size * long_side / STYLE_REFERENCE))
    scale = target / long_side
    dims = (max(16, round(width * scale)), max(16, round(height * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return to_tensor(cv2.resize(image, dims, interpolation=interp)).unsqueeze(0)


# ----------------------------------------------------------------------------- previews


def preview_photo(preview_image: str | None, pool: PhotoPool, size: int) -> torch.Tensor:
    """The fixed (1, 3, H, W) photo every preview stylizes, so previews compare over time:
    --preview-image, or the pool's middle photo; short side at most PREVIEW_SCALE x size."""
    if preview_image:
        image = decode_rgb(Path(preview_image))
        if image is None:
            raise LivestyleError(f"--preview-image {preview_image}: not a readable image")
    else:
        image = pool.images[len(pool.images) // 2]
    image = fit_short_side(image, round(size * PREVIEW_SCALE))
    return to_tensor(image).unsqueeze(0)


def write_preview(path: Path, photo: torch.Tensor, output: torch.Tensor) -> None:
    """The photo and its stylized version side by side, as a JPEG."""
    side_by_side = torch.cat([photo[0], output[0].clamp(0, 1)], dim=2)
    _write_jpeg(path, to_uint8(side_by_side))


def write_preview_grid(
    path: Path, photo: torch.Tensor, outputs: list[torch.Tensor], columns: int = 4
) -> None:
    """The photo first, then each style's version, in rows of `columns` (empty cells black)."""
    tiles = [photo[0], *(out[0].clamp(0, 1) for out in outputs)]
    tiles += [torch.zeros_like(photo[0])] * (-len(tiles) % columns)
    rows = [torch.cat(tiles[i : i + columns], dim=2) for i in range(0, len(tiles), columns)]
    _write_jpeg(path, to_uint8(torch.cat(rows, dim=1)))


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    ok, data = cv2.imencode(path.suffix, rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise LivestyleError(f"{path}: cannot encode image")
    # Written aside and renamed: a viewer watching the run folder never sees half a file.
    with replaced_whole(path) as temporary:
        data.tofile(str(temporary))
