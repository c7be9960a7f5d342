"""Training images: finding and decoding the photos (in RGB), the in-memory pool's crops."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livestyle.core.errors import LivestyleError
from livestyle.train.data import (
    CACHE_SCALE,
    FACE_MARGIN,
    PhotoPool,
    decode_rgb,
    face_mask,
    find_photos,
    read_face_boxes,
)


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


def test_a_face_mask_follows_its_crop_through_scale_and_mirror(tmp_path) -> None:
    """The photo is black with a red square exactly where the grown face box is: every crop's
    mask is the crop's red, pixel for pixel, whatever its position, scale and mirroring."""
    box = (25, 50, 100, 100)  # grown by 15 px each way: (10, 35) to (140, 165)
    grown = round(box[2] * FACE_MARGIN)
    image = np.zeros((320, 480, 3), np.uint8)  # short side 320: cached at 64, 1/5 exactly
    image[35:165, 10:140, 2] = 255  # red in BGR
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), image)
    assert grown == 15
    pool = PhotoPool.load([path], 32, {path: [box]})
    assert pool.masks[0] is not None and pool.masks[0].shape == pool.images[0].shape[:2]
    rng = np.random.default_rng(0)
    mirrored = 0
    for _ in range(40):
        where = pool.draw(rng, 32)
        picture = where.apply(pool.images[where.index], 32)
        mask = where.apply(pool.masks[where.index], 32)
        assert np.array_equal(mask, picture[..., 0])
        mirrored += where.mirror
    assert 0 < mirrored < 40
    # A crop that holds the face at all has mask pixels, partly covered ones in between.
    x, masks = pool.batch_with_faces(np.random.default_rng(1), 32, 8)
    assert masks.shape == (8, 1, 32, 32) and float(masks.max()) == 1.0
    torch.testing.assert_close(masks[:, 0], x[:, 0], rtol=0, atol=0)


def test_crops_with_faces_are_the_crops_batch_draws(tmp_path) -> None:
    """The masks ride along: the pictures, and the generator's state after, are batch's."""
    paths = [tmp_path / f"{i}.png" for i in range(3)]
    for i, path in enumerate(paths):
        write_photo(path, i, (90, 120))
    pool = PhotoPool.load(paths, 32, {paths[1]: [(10, 10, 30, 30)]})
    plain_rng, face_rng = np.random.default_rng(3), np.random.default_rng(3)
    plain = pool.batch(plain_rng, 32, 6)
    x, masks = pool.batch_with_faces(face_rng, 32, 6)
    assert torch.equal(plain, x)
    assert plain_rng.random() == face_rng.random()
    # Only the second photo has a face; the others' crops are all zeros.
    assert pool.masks[0] is None and pool.masks[2] is None and pool.masks[1] is not None
    without = PhotoPool.load(paths, 32)
    assert without.masks == []
    _, none = without.batch_with_faces(np.random.default_rng(3), 32, 6)
    assert float(none.abs().sum()) == 0


def test_masks_travel_with_their_photos_when_some_are_skipped(tmp_path) -> None:
    """A process's share of the photos (or one with an unreadable file) keeps each photo's
    own mask: masks are made per photo as it is decoded, not matched by position after."""
    paths = [tmp_path / "a.png", tmp_path / "broken.png", tmp_path / "c.png"]
    write_photo(paths[0], 1, (60, 60))
    paths[1].write_bytes(b"not a png")
    write_photo(paths[2], 2, (60, 60))
    pool = PhotoPool.load(paths, 32, {paths[2]: [(0, 0, 20, 20)]})
    assert pool.paths == [paths[0], paths[2]] and pool.skipped == 1
    assert pool.masks[0] is None and pool.masks[1] is not None


def test_a_face_mask_is_scaled_as_the_photo_and_grown_each_way() -> None:
    # A 200 x 400 photo cached at 100 x 200: the box (40, 60, 40, 20) grows by 6 and 3 px.
    mask = face_mask((100, 200), (200, 400), [(40, 60, 40, 20)])
    rows, cols = np.nonzero(mask)
    assert (rows.min(), rows.max() + 1) == (round(57 / 2), round(83 / 2))
    assert (cols.min(), cols.max() + 1) == (round(34 / 2), round(86 / 2))
    assert set(np.unique(mask)) == {0, 255}
    # A box at the edge, grown to rows 7 to 14 and columns -3 to 4, is clipped to the
    # picture; no boxes: no mask at all.
    edge = face_mask((10, 10), (10, 10), [(-2, 8, 5, 5)])
    assert edge[7:, :4].all() and edge.sum() == 255 * 3 * 4
    assert face_mask((10, 10), (10, 10), []) is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("{not json", "not a JSON file"),
        ('["a.jpg"]', "not a face-box file"),
        ('{"photos": {"a.jpg": [[1, 2, 3]]}}', "not a face-box file"),
        ('{"photos": {"a.jpg": [[1, 2, 3, "4"]]}}', "not a face-box file"),
    ],
)
def test_a_faces_file_that_is_missing_or_not_face_boxes_is_one_line(
    tmp_path, content, message
) -> None:
    path = tmp_path / "faces.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(LivestyleError, match=message) as caught:
        read_face_boxes(path, tmp_path)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(f"--faces {path}")


def test_face_boxes_are_found_by_their_path_under_the_photo_folder(tmp_path) -> None:
    path = tmp_path / "faces.json"
    path.write_text('{"detector": "x", "photos": {"sub/a.jpg": [[1, 2, 3, 4]], "b.png": []}}')
    root = tmp_path / "photos"
    assert read_face_boxes(path, root) == {
        root / "sub" / "a.jpg": [(1, 2, 3, 4)],
        root / "b.png": [],
    }
