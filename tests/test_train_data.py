"""Training images: finding and decoding the photos (in RGB), the in-memory pool's crops."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle.core.errors import LivestyleError
from livestyle.train.data import CACHE_SCALE, PhotoPool, decode_rgb, find_photos


def write_photo(path: Path, seed: int, size: tuple[int, int] = (40, 56)) -> None:
    """A smooth random picture (blobs of colour), like a photo rather than white noise."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    image = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), image)


def test_photo_pool_crops_at_size(tmp_path) -> None:
    big = tmp_path / "big.png"
    write_photo(big, 5, (300, 500))
    pool = PhotoPool.load([big], 32)
    assert min(pool.images[0].shape[:2]) == round(32 * CACHE_SCALE)  # cached downscaled
    batch = pool.batch(np.random.default_rng(0), 32, 3)
    assert batch.shape == (3, 3, 32, 32)
    assert float(batch.min()) >= 0 and float(batch.max()) <= 1


def test_photos_are_decoded_as_rgb(tmp_path) -> None:
    path = tmp_path / "red.png"
    red_in_bgr = np.zeros((8, 8, 3), np.uint8)
    red_in_bgr[..., 2] = 255
    cv2.imwrite(str(path), red_in_bgr)
    assert decode_rgb(path)[0, 0].tolist() == [255, 0, 0]
    assert decode_rgb(tmp_path / "missing.png") is None


def test_find_photos_searches_subfolders_and_names_an_empty_or_missing_folder(tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    write_photo(tmp_path / "sub" / "a.tif", 1)
    (tmp_path / "notes.txt").write_text("not a photo")
    assert find_photos(tmp_path) == [tmp_path / "sub" / "a.tif"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(LivestyleError, match="no photos found"):
        find_photos(tmp_path / "empty")
    with pytest.raises(LivestyleError, match="no such folder"):
        find_photos(tmp_path / "missing")
