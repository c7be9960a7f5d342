"""Training losses: the Gram matrices of the style loss and the temporal term's masking."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from livestyle.train.losses import (
    FLAT_BLUR,
    JITTER_PX,
    MIN_AREA_PX,
    flat_patches,
    gram,
    grid_loss,
    jitter,
    local_style_loss,
    local_style_where,
    random_motion,
    style_loss,
    temporal_loss,
    valid_mask,
    warp,
)


def test_gram_is_normalized_by_size() -> None:
    features = torch.ones(2, 3, 4, 5)
    g = gram(features)
    assert g.shape == (2, 3, 3)
    torch.testing.assert_close(g, torch.full((2, 3, 3), 1 / 3))


def test_temporal_loss_ignores_invented_borders() -> None:
    gen = torch.Generator().manual_seed(0)
    y = torch.rand(2, 3, 32, 32)
    theta = random_motion(2, gen)
    assert float(temporal_loss(y, warp(y, theta), theta)) < 1e-10
    assert float(temporal_loss(y, torch.zeros_like(y), theta)) > 0.1
    mask = valid_mask(theta, y)
    assert 0.5 < float(mask.mean()) < 1.0


def test_temporal_loss_weighs_each_sample_by_its_scale() -> None:
    gen = torch.Generator().manual_seed(1)
    y, moved = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    theta = random_motion(2, gen)
    plain = temporal_loss(y, moved, theta)
    torch.testing.assert_close(temporal_loss(y, moved, theta, torch.ones(2)), plain)
    # Only the second sample counts, three times over: its share of the plain loss, tripled.
    only_second = temporal_loss(y, moved, theta, torch.tensor([0.0, 3.0]))
    second = temporal_loss(y, moved, theta, torch.tensor([0.0, 1.0]))
    first = temporal_loss(y, moved, theta, torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(first + second, plain)
    torch.testing.assert_close(only_second, 3 * second)
    assert float(first) > 0 and float(second) > 0


def test_a_mixed_batch_matches_each_sample_to_its_own_style() -> None:
    from livestyle.train.losses import style_loss

    torch.manual_seed(0)
    feats = {"a": torch.rand(3, 4, 6, 6), "b": torch.rand(3, 5, 3, 3)}
    targets = {k: torch.rand(3, v.shape[1], v.shape[1]) for k, v in feats.items()}
    scale = torch.tensor([1.0, 2.0, 0.5])
    batch = style_loss(feats, targets, ("a", "b"), scale)
    alone = [
        style_loss(
            {k: v[i : i + 1] for k, v in feats.items()},
            {k: v[i : i + 1] for k, v in targets.items()},
            ("a", "b"),
        )
        * scale[i]
        for i in range(3)
    ]
    torch.testing.assert_close(batch, torch.stack(alone).mean())
    # Targets that do not line up with the batch are an error, not a broadcast.
    with pytest.raises(ValueError):
        style_loss(feats, {k: v.unsqueeze(1) for k, v in targets.items()}, ("a", "b"))


def test_color_stats_are_the_mean_and_covariance_of_the_pixels() -> None:
    from livestyle.train.losses import color_stats

    image = torch.zeros(1, 3, 4, 4)
    image[:, 0, :2] = 1.0  # top half red, bottom half blue
    image[:, 2, 2:] = 1.0
    mean, cov = color_stats(image)
    torch.testing.assert_close(mean, torch.tensor([[0.5, 0.0, 0.5]]))
    # Red and blue each vary by +-0.5 and always in opposite directions; green never varies.
    want = torch.tensor([[0.25, 0.0, -0.25], [0.0, 0.0, 0.0], [-0.25, 0.0, 0.25]])
    torch.testing.assert_close(cov[0], want)


def test_the_color_term_pulls_a_pale_picture_towards_the_paintings_palette() -> None:
    from livestyle.train.losses import color_loss, color_stats

    torch.manual_seed(0)
    painting = torch.rand(1, 3, 16, 16) * torch.tensor([0.2, 0.4, 1.0]).view(1, 3, 1, 1)
    target = color_stats(painting)
    assert float(color_loss(painting, target)) < 1e-10
    pale = (0.6 + 0.05 * torch.rand(1, 3, 16, 16)).requires_grad_(True)
    before = color_loss(pale, target)
    before.backward()
    with torch.no_grad():
        after = color_loss(pale - 0.5 * pale.grad, target)
    assert float(before.detach()) > 0.1
    assert float(after.detach()) < float(before.detach())


def test_the_color_term_matches_each_sample_to_its_own_painting() -> None:
    from livestyle.train.losses import color_loss, color_stats

    torch.manual_seed(0)
    images = torch.rand(2, 3, 8, 8)
    mean, cov = color_stats(images)
    assert float(color_loss(images, (mean, cov))) < 1e-10
    swapped = (mean.flip(0), cov.flip(0))
    assert float(color_loss(images, swapped)) > 1e-3
    # A sample's weight scales its own term only.
    weights = torch.tensor([0.0, 1.0])
    only_second = color_loss(images[1:], (swapped[0][1:], swapped[1][1:]))
    torch.testing.assert_close(color_loss(images, swapped, weights), only_second / 2)


def test_the_color_term_stays_bounded_for_a_low_contrast_painting() -> None:
    from livestyle.train.losses import color_loss, color_stats

    torch.manual_seed(0)
    dull = 0.5 + 0.01 * torch.rand(1, 3, 16, 16)  # almost no colour spread
    vivid = torch.rand(1, 3, 16, 16)
    loss = color_loss(vivid, color_stats(dull))
    assert 0.5 < float(loss) <= 4.0  # mean and covariance errors, each at most 2


def test_face_weights_are_one_plus_the_weight_times_the_face_share_of_each_pixel() -> None:
    from livestyle.train.losses import face_weights

    masks = torch.zeros(1, 1, 8, 8)
    masks[:, :, :4, :4] = 1.0  # a face filling the top-left feature pixel
    masks[:, :, 4:6, 4:8] = 1.0  # and half of the bottom-right one
    weights = face_weights(masks, 3.0, (2, 2))
    torch.testing.assert_close(weights[0, 0], torch.tensor([[4.0, 1.0], [1.0, 2.5]]))


def test_without_face_weight_the_content_loss_is_todays_bit_for_bit() -> None:
    from livestyle.train.losses import content_loss, face_weights

    torch.manual_seed(0)
    output, target = torch.rand(2, 5, 6, 6), torch.rand(2, 5, 6, 6)
    masks = (torch.rand(2, 1, 24, 24) > 0.5).float()
    today = content_loss(output, target)
    assert torch.equal(content_loss(output, target, face_weights(masks, 0.0, (6, 6))), today)
    assert torch.equal(content_loss(output, target, None), today)


def test_an_error_inside_a_face_counts_one_plus_the_weight_times() -> None:
    from livestyle.train.losses import content_loss, face_weights

    target = torch.rand(1, 4, 8, 8, generator=torch.Generator().manual_seed(2))
    masks = torch.zeros(1, 1, 32, 32)
    masks[:, :, :16, :16] = 1.0  # the face: the top-left quarter of the features
    weights = face_weights(masks, 4.0, (8, 8))
    inside, outside = target.clone(), target.clone()
    inside[:, :, 2, 3] += 0.5
    outside[:, :, 6, 5] += 0.5
    in_face = content_loss(inside, target, weights)
    out_face = content_loss(outside, target, weights)
    torch.testing.assert_close(in_face, 5 * out_face)
    # Outside the faces it is what it was without them.
    torch.testing.assert_close(out_face, content_loss(outside, target))


@pytest.mark.parametrize("offset", [(0, 0), (3, 8), (8, 5)])
def test_jitter_keeps_the_whole_picture_and_moves_it_by_the_offset(offset) -> None:
    x = torch.rand(2, 3, 20, 24)
    moved = jitter(x, offset)
    dy, dx = offset
    assert moved.shape[-2:] == (20 + JITTER_PX, 24 + JITTER_PX)
    torch.testing.assert_close(moved[..., dy : dy + 20, dx : dx + 24], x, rtol=0, atol=0)


def test_a_line_along_the_border_is_an_edge_after_jitter_not_hidden_in_a_seam() -> None:
    """A circular roll puts the left column beside the right one; the reflected margin puts
    it beside itself, so a line painted there differs from the photo's own edge."""
    photo = torch.linspace(0, 1, 24).repeat(1, 3, 16, 1)  # a left-to-right ramp
    lined = photo.clone()
    lined[..., 0] = 1.0  # a white line down the left edge
    moved = jitter(lined, (0, 4))[..., :16, :]  # the photo's rows (no margin above)
    # Left of the line sits its own reflection (the next column), not the far right.
    torch.testing.assert_close(moved[..., 4], lined[..., 0], rtol=0, atol=0)
    torch.testing.assert_close(moved[..., 3], lined[..., 1], rtol=0, atol=0)
    # Its jump against the neighbour is the line's own, much larger than the photo's.
    jump = (moved[..., 4] - moved[..., 3]).abs().mean()
    assert float(jump) > 10 * float((photo[..., 1] - photo[..., 0]).abs().mean())


def _shuffled(phases: torch.Tensor) -> torch.Tensor:
    """(N, C*4, h, w) sub-pixel phases -> the (N, C, 2h, 2w) picture the shuffle makes."""
    return F.pixel_shuffle(phases, 2)


def test_the_grid_term_sees_a_2x2_colour_grid_not_strokes_edges_or_flat_colour() -> None:
    gen = torch.Generator().manual_seed(0)
    flat = torch.full((1, 3, 48, 48), 0.4)
    strokes = flat.clone()
    strokes[..., ::3, :] = 0.9  # stripes every third row
    strokes[..., :, 17:] -= 0.3  # and a hard edge
    texture = flat + 0.15 * torch.randn(flat.shape, generator=gen)  # fine dabs
    phases = torch.full((1, 12, 24, 24), 0.4)
    phases[:, 0::4] += 0.3  # one of the four sub-pixels redder, greener, bluer
    grid = _shuffled(phases)
    assert float(grid_loss(flat)) == 0.0
    assert float(grid_loss(grid)) > 5 * max(float(grid_loss(strokes)), float(grid_loss(texture)))


def test_the_grid_term_pulls_the_phases_together() -> None:
    phases = torch.full((1, 12, 8, 8), 0.5)
    phases[:, 1::4] += 0.2
    phases.requires_grad_(True)
    grid_loss(_shuffled(phases)).backward()
    # Gradient descent lowers the bright phase and raises the others.
    assert float(phases.grad[:, 1::4].mean()) > 0 > float(phases.grad[:, 0::4].mean())


def test_the_grid_term_takes_odd_sizes() -> None:
    assert torch.isfinite(grid_loss(torch.rand(1, 3, 21, 19)))


def _marks(gen: torch.Generator, size: int = 24) -> torch.Tensor:
    """Feature maps of marks: random values with the same statistics everywhere."""
    return torch.rand(1, 4, size, size, generator=gen)


def test_the_local_style_term_sees_a_smooth_half_the_whole_pictures_gram_misses() -> None:
    gen = torch.Generator().manual_seed(0)
    target = gram(_marks(gen, 96))[0]
    everywhere = _marks(gen)
    # The same marks, crowded into the left half at sqrt(2) their strength: the whole
    # picture's Gram is the painting's again, while the right half is flat.
    left_only = everywhere * 2**0.5
    left_only[..., everywhere.shape[-1] // 2 :] = 0
    layers = ("tap",)
    whole = float(style_loss({"tap": left_only}, {"tap": target}, layers))
    assert whole < 0.05  # the global term cannot tell the two apart ...
    assert abs(whole - float(style_loss({"tap": everywhere}, {"tap": target}, layers))) < 0.05
    local_everywhere = float(local_style_loss({"tap": everywhere}, {"tap": target}, layers))
    local_left_only = float(local_style_loss({"tap": left_only}, {"tap": target}, layers))
    assert local_everywhere < 0.05  # ... the local one asks for marks in every part
    assert local_left_only > 0.3


def test_the_local_style_term_pulls_a_flat_part_towards_marks() -> None:
    gen = torch.Generator().manual_seed(1)
    target = gram(_marks(gen, 96))[0]
    flat = torch.full((1, 4, 24, 24), 0.5, requires_grad=True)
    local_style_loss({"tap": flat}, {"tap": target}, ("tap",)).backward()
    assert flat.grad is not None and float(flat.grad.abs().sum()) > 0


def test_the_local_style_term_matches_each_sample_to_its_own_painting() -> None:
    gen = torch.Generator().manual_seed(2)
    a, b = _marks(gen), _marks(gen) * 3
    targets = {"tap": torch.cat([gram(a), gram(b)])}  # (2, C, C): one painting per sample
    batch = torch.cat([a, b])
    swapped = torch.cat([b, a])
    matched = float(local_style_loss({"tap": batch}, targets, ("tap",)))
    assert matched < 0.1 < float(local_style_loss({"tap": swapped}, targets, ("tap",)))
    with pytest.raises(ValueError, match="3 style targets for a batch of 2"):
        local_style_loss({"tap": batch}, {"tap": targets["tap"][[0, 1, 1]]}, ("tap",))


def test_the_local_style_term_leaves_out_taps_too_small_for_parts() -> None:
    gen = torch.Generator().manual_seed(3)
    big, tiny = _marks(gen), _marks(gen, 2 * MIN_AREA_PX - 1)
    targets = {"big": gram(big)[0], "tiny": gram(tiny)[0] * 100}  # tiny's would be far off
    both = local_style_loss({"big": big, "tiny": tiny}, targets, ("big", "tiny"))
    alone = local_style_loss({"big": big}, targets, ("big",))
    torch.testing.assert_close(both, alone)
    with pytest.raises(ValueError, match="smaller than"):
        local_style_loss({"tiny": tiny}, targets, ("tiny",))


def test_the_local_style_term_asks_nothing_where_its_weight_is_zero() -> None:
    # Left half textured like the painting, right half smooth: the right half's parts miss.
    torch.manual_seed(0)
    target_feats = torch.randn(1, 8, 12, 12)
    target = {"tap": gram(target_feats)[0]}
    half = target_feats.clone()
    half[..., 6:] = 0.1
    left = torch.zeros(1, 1, 48, 48)
    left[..., :24] = 1
    everywhere = float(local_style_loss({"tap": half}, target, ("tap",), areas=2))
    left_only = float(local_style_loss({"tap": half}, target, ("tap",), areas=2, where=left))
    right_only = float(local_style_loss({"tap": half}, target, ("tap",), areas=2, where=1 - left))
    # A textured part misses a little (its Gram is of half the positions), a smooth one all.
    assert left_only < 0.3 * right_only and left_only < 0.3 * everywhere
    # A weight map moves no gradient into the parts it leaves out.
    smooth = half.clone().requires_grad_()
    local_style_loss({"tap": smooth}, target, ("tap",), areas=2, where=left).backward()
    assert float(smooth.grad[..., 6:].abs().max()) == 0.0
    assert float(smooth.grad[..., :6].abs().max()) > 0.0


def test_local_style_where_picks_the_mask_of_its_choice() -> None:
    faces = torch.zeros(2, 1, 8, 8)
    faces[0, :, 2:5, 2:5] = 1
    flat = torch.zeros(2, 1, 8, 8)
    flat[1, :, :4] = 1
    assert local_style_where("all", faces, flat) is None
    torch.testing.assert_close(local_style_where("off-faces", faces, flat), 1 - faces)
    torch.testing.assert_close(local_style_where("flat", faces, flat), flat)
    with pytest.raises(ValueError, match="without its masks"):
        local_style_where("flat", faces, None)


def _detail(x: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W): each pixel's step to its right neighbour, the photo's texture."""
    return (x[..., :, 1:] - x[..., :, :-1]).abs().sum(1, keepdim=True)


def test_flat_patches_blur_one_rectangle_per_crop_and_leave_the_rest() -> None:
    x = torch.rand(6, 3, 96, 128)  # pure texture
    y, mask = flat_patches(x, torch.Generator().manual_seed(4), chance=1.0)
    changed = (y != x).any(1)  # (N, H, W)
    assert torch.equal(mask[:, 0] > 0, changed)  # the mask is where the wall is
    for crop in changed:
        rows, cols = crop.any(1).nonzero(), crop.any(0).nonzero()
        height, width = int(rows[-1] - rows[0]) + 1, int(cols[-1] - cols[0]) + 1
        assert 96 / 3 - 1 <= height <= 96 * 2 / 3 and 128 / 3 - 1 <= width <= 128 * 2 / 3
        # One solid rectangle: every pixel inside its bounds changed.
        assert bool(crop[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all())
    inside = _detail(y)[changed[:, None, :, 1:] & changed[:, None, :, :-1]]
    assert float(inside.mean()) < 0.1 * float(_detail(x).mean())  # textureless inside
    # Its colour is the photo's, averaged: a wall of the picture, not a grey hole.
    ramp = torch.linspace(0, 1, 128).expand(1, 3, 96, 128)
    walled, _ = flat_patches(ramp, torch.Generator().manual_seed(4), chance=1.0)
    assert float((walled - ramp).abs().max()) < 1.5 * FLAT_BLUR / 128


def test_flat_patches_at_chance_zero_change_nothing_and_draw_from_the_generator() -> None:
    x = torch.rand(8, 3, 32, 32)
    unchanged, none = flat_patches(x, torch.Generator().manual_seed(0), 0.0)
    torch.testing.assert_close(unchanged, x)
    assert not none.any()
    half, _ = flat_patches(x, torch.Generator().manual_seed(0), 0.5)
    touched = int((half != x).flatten(1).any(1).sum())
    assert 0 < touched < 8  # some crops, not all (8 draws at one half: seeded, fixed)
    again, _ = flat_patches(x, torch.Generator().manual_seed(0), 0.5)
    torch.testing.assert_close(again, half)
