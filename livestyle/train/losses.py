"""The training losses: content, style (Gram matrices of the loss network's features),
total variation, and the temporal term that asks the network to commute with small
frame-to-frame motions, so live video does not flicker.

Every loss returns a float32 scalar whose weight is an option of `livestyle train`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from livestyle.train.lossnet import LossNetwork

# Largest random shift (px) before the loss network: the loss network's grid then moves
# from step to step, so the network cannot paint to one pixel grid.
JITTER_PX = 8
# Shifts averaged into the style Gram targets, so they do not depend on one pixel grid.
STYLE_JITTERS = 4
# local_style_loss: the picture in LOCAL_AREAS x LOCAL_AREAS parts, each at least MIN_AREA_PX
# feature positions a side (a Gram of fewer is mostly one mark's).
LOCAL_AREAS = 3
MIN_AREA_PX = 4
# flat_patches: the photo averaged over FLAT_BLUR px squares and smoothly scaled back up.
FLAT_BLUR = 16


# ----------------------------------------------------------------------------- jitter


def random_offset(gen: torch.Generator) -> tuple[int, int]:
    """A random (dy, dx) offset of 0 to JITTER_PX pixels, for `jitter`."""
    dy, dx = torch.randint(0, JITTER_PX + 1, (2,), generator=gen).tolist()
    return int(dy), int(dx)


def jitter(x: torch.Tensor, offset: tuple[int, int]) -> torch.Tensor:
    """The (N, C, H, W) batch inside a JITTER_PX-wide reflected margin, `offset` px of it
    above and left (the rest below and right): the loss network's grid moves per step.

    A reflected margin, not a circular roll: a roll puts the frame's left edge beside its
    right one, a seam where the photo jumps anyway, so a line painted along the border
    cost no content loss and the trained networks drew one (issue 25). Beside its own
    reflection, a border line is an edge the photo does not have.
    """
    dy, dx = offset
    h, w = x.shape[-2:]
    margin = JITTER_PX
    padded = F.pad(x, (margin, margin, margin, margin), mode="reflect")
    top, left = margin - dy, margin - dx
    return padded[..., top : top + h + margin, left : left + w + margin]


# ----------------------------------------------------------------------------- style and content


def gram(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C) Gram matrices normalized by C*H*W, in float32.

    Always float32, also inside autocast: autocast would run the product in float16, and
    on real photos the unnormalized sums of the early taps reach 1e5-1e6, past float16's
    65504, so every step would overflow and be skipped by the gradient scaler.
    """
    n, c, h, w = features.shape
    with torch.autocast(features.device.type, enabled=False):
        # Scale before the product, so no partial sum leaves the range of the inputs.
        flat = features.float().reshape(n, c, h * w) / math.sqrt(c * h * w)
        return flat @ flat.transpose(1, 2)


@torch.no_grad()
def style_targets(
    lossnet: LossNetwork, style: torch.Tensor, gen: torch.Generator
) -> dict[str, torch.Tensor]:
    """Gram matrices of the painting, averaged over a few jitter shifts."""
    totals: dict[str, torch.Tensor] = {}
    offsets = [(0, 0)] + [random_offset(gen) for _ in range(STYLE_JITTERS - 1)]
    for offset in offsets:
        feats = lossnet(jitter(style, offset))
        for name in lossnet.style_layers:
            totals[name] = totals.get(name, 0) + gram(feats[name]) / len(offsets)
    return totals


def style_loss(
    feats: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    layers: tuple[str, ...],
    scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over layers of the Gram error relative to the painting's own Gram magnitude.

    A target is (C, C) for the whole batch or (N, C, C), one per sample (each sample's own
    style in a multi-style batch); `scale` (N,) weighs the samples' style terms.
    """
    total = 0.0
    for name in layers:
        grams = gram(feats[name])
        relative = _gram_error(grams, _checked_target(targets[name], grams.shape[0]))
        total = total + _scaled_mean(relative, scale)
    return total / len(layers)


def local_style_loss(
    feats: dict[str, torch.Tensor],
    targets: dict[str, torch.Tensor],
    layers: tuple[str, ...],
    scale: torch.Tensor | None = None,
    areas: int = LOCAL_AREAS,
    where: torch.Tensor | None = None,
) -> torch.Tensor:
    """`style_loss` of each of areas x areas parts of the picture against the whole
    painting's Gram, averaged over the parts; `where` (N, 1, H, W) in [0, 1] weighs each
    part by its mean over the part (`local_style_where`: off the faces, or the flat walls).

    The whole picture's Gram is met by marks anywhere: the trained networks painted edges
    and textured parts and left flat walls and skies smooth, where the peer covers them
    (issue 25's blind rounds). Per part, a smooth part misses the painting's texture
    statistics on its own. Taps too small for parts of MIN_AREA_PX positions are left out.
    """
    total, counted = 0.0, 0
    for name in layers:
        f = feats[name]
        n, c, h, w = f.shape
        parts = min(areas, h // MIN_AREA_PX, w // MIN_AREA_PX)
        if parts < 2:
            continue
        ph, pw = h // parts, w // parts
        f = f[..., : ph * parts, : pw * parts].reshape(n, c, parts, ph, parts, pw)
        f = f.permute(0, 2, 4, 1, 3, 5).reshape(n, parts * parts, c, ph, pw)
        grams = gram(f.flatten(0, 1)).reshape(n, parts * parts, c, c)
        target = _checked_target(targets[name], n)
        target = target[:, None] if target.dim() == 3 else target  # one per sample, all parts
        errors = _gram_error(grams, target)  # (N, parts * parts)
        if where is not None:
            errors = errors * F.adaptive_avg_pool2d(where.float(), parts).flatten(1)
        relative = errors.mean(dim=1)  # (N,): over the parts
        total = total + _scaled_mean(relative, scale)
        counted += 1
    if not counted:
        raise ValueError(f"every style tap is smaller than {MIN_AREA_PX * 2} positions a side")
    return total / counted


def _checked_target(target: torch.Tensor, batch: int) -> torch.Tensor:
    """A style target, (C, C) or (N, C, C) for a batch of N, or a ValueError."""
    if target.dim() not in (2, 3):
        raise ValueError(f"style target of shape {tuple(target.shape)}: want (C, C) or (N, C, C)")
    if target.dim() == 3 and target.shape[0] not in (1, batch):
        # A silent broadcast here once pulled every sample towards every style's target.
        raise ValueError(f"{target.shape[0]} style targets for a batch of {batch}")
    return target


def _scaled_mean(per_sample: torch.Tensor, scale: torch.Tensor | None) -> torch.Tensor:
    """The mean of per-sample terms, each weighed by its sample's `scale` (N,) if given."""
    return (per_sample if scale is None else per_sample * scale).mean()


def _gram_error(grams: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared Gram error relative to the target's own magnitude, per leading index."""
    diff = (grams - target).pow(2).sum(dim=(-2, -1))
    return diff / target.pow(2).sum(dim=(-2, -1))


def color_stats(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 3, H, W) RGB -> per image the pixels' mean (N, 3) and covariance (N, 3, 3)."""
    flat = image.float().flatten(2)
    mean = flat.mean(dim=2)
    centred = flat - mean[:, :, None]
    return mean, centred @ centred.transpose(1, 2) / flat.shape[2]


def color_loss(
    output: torch.Tensor,
    target: tuple[torch.Tensor, torch.Tensor],
    scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """Distance of the output's colour distribution (mean and covariance of its pixels) from
    the painting's, relative to the painting's own.

    The loss network's Gram matrices carry colour only among many texture channels: trained
    networks came out in one pale tint per style (issue #13). This asks for the painting's
    palette directly: its mean colour and how its colours spread (blue against yellow).
    `target` is the painting's (mean, covariance), per sample (N, 3) / (N, 3, 3).
    """
    mean, cov = color_stats(output)
    want_mean, want_cov = target
    # Each relative to its own size: the mean's square is ten times the covariance's, and in
    # one sum the spread (what the pale outputs lacked) went unseen. Relative to both sides,
    # not the painting's alone: a low-contrast painting (Impression, Sunrise) has a tiny
    # covariance, and an error relative to it alone grew without bound and flattened the
    # whole shared network within 500 steps; this way each error stays below 2.
    mean_error = _symmetric_error(mean, want_mean, (1,))
    cov_error = _symmetric_error(cov, want_cov, (1, 2))
    relative = mean_error + cov_error
    return _scaled_mean(relative, scale)


def _symmetric_error(a: torch.Tensor, b: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """|a - b|^2 / (|a|^2 + |b|^2), per sample: 0 when equal, at most 2."""
    return (a - b).pow(2).sum(dims) / (a.pow(2).sum(dims) + b.pow(2).sum(dims)).clamp_min(1e-8)


def content_loss(
    output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Feature MSE relative to the photo's feature energy (so weights are scale-free);
    `weight` (N, 1, h, w) weighs each feature pixel (face_weights), and the normalization
    stays the unweighted one, so a pixel of weight 1 counts as it does without."""
    output, target = output.float(), target.float()
    energy = target.pow(2).mean().clamp_min(1e-8)
    if weight is None:
        return F.mse_loss(output, target) / energy
    return (F.mse_loss(output, target, reduction="none") * weight.float()).mean() / energy


def face_weights(masks: torch.Tensor, face: float, size: tuple[int, int]) -> torch.Tensor:
    """Per feature pixel, 1 + face x the share of it inside a face: the (N, 1, H, W) masks,
    moved as the pictures were, area-averaged down to the content features' (h, w)."""
    shares = F.interpolate(masks.float(), size=tuple(size), mode="area")
    return 1.0 + face * shares


def tv_loss(y: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference between neighbouring pixels: penalizes speckle."""
    dy = (y[..., 1:, :] - y[..., :-1, :]).abs().mean()
    dx = (y[..., :, 1:] - y[..., :, :-1]).abs().mean()
    return dy + dx


# Side (in half-resolution pixels) of the areas whose means grid_loss compares: 12 px
# of output, a multiple of 2 and 3, so stripes every 3 px (real strokes) cancel out.
GRID_AREA = 6


def grid_loss(y: torch.Tensor) -> torch.Tensor:
    """How far the four 2x2 sub-pixel phases of the output drift apart over small areas.

    The lite network paints four half-resolution pictures that its pixel shuffle
    interleaves; where they disagree in colour over a region, a 2x2 colour grid shows
    (the green/magenta blobs of heavier style weights, issue 25). Only the areas' means
    are compared, so edges and fine strokes, which differ pixel to pixel, stay free.
    """
    n, c, h, w = y.shape
    y = y[..., : h - h % 2, : w - w % 2]
    phases = F.pixel_unshuffle(y, 2)  # (N, C*4, H/2, W/2): each channel's 4 phases in a row
    means = F.avg_pool2d(phases, GRID_AREA, stride=GRID_AREA, ceil_mode=True)
    means = means.reshape(n, c, 4, *means.shape[-2:])
    return (means - means.mean(dim=2, keepdim=True)).abs().mean()


# ----------------------------------------------------------------------------- temporal


def random_motion(count: int, gen: torch.Generator) -> torch.Tensor:
    """Affine matrices (N, 2, 3) of small camera-like motion: shift, rotation, zoom."""
    u = torch.rand(count, 4, generator=gen) * 2 - 1
    angle = u[:, 0] * math.radians(2.0)
    scale = 1 + u[:, 1] * 0.03
    shift = u[:, 2:] * 0.03  # in normalized units: 1.5 % of the side
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    return torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    )


def warp(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Move a batch by its affine matrices; pixels from outside the frame are black."""
    grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def valid_mask(theta: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """1 where the warp samples inside the frame; the invented border pixels are 0."""
    ones = torch.ones_like(like[:, :1])
    return (warp(ones, theta) > 0.999).to(like.dtype)


def temporal_pair(x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A moved, slightly noisy copy of the batch (the next video frame) and the motion."""
    theta = random_motion(x.shape[0], gen)
    noise = torch.randn(x.shape, generator=gen).to(x.device) * 0.02
    return warp(x, theta) + noise, theta


def flat_patches(
    x: torch.Tensor, gen: torch.Generator, chance: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch with, in each crop at `chance`, one rectangle (a third to two thirds of each
    side) replaced by its own heavy blur: a wall or sky with none of the photo's texture; and
    the (N, 1, H, W) mask of the rectangles (1 inside).

    With the local style term asking every part of the picture for the painting's marks, such
    a part can only get them from the canvas grain (--grain), which holds still, not from the
    photo's noise, which the temporal term's noisy copy makes flicker (issue 25, round five).
    """
    n, _, h, w = x.shape
    coarse = F.interpolate(x, size=(max(1, h // FLAT_BLUR), max(1, w // FLAT_BLUR)), mode="area")
    flat = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    picked = torch.rand(n, generator=gen) < chance
    sides = torch.rand(n, 2, generator=gen) / 3 + 1 / 3
    corners = torch.rand(n, 2, generator=gen)
    mask = torch.zeros(n, 1, h, w, device=x.device, dtype=x.dtype)
    for i in picked.nonzero().flatten().tolist():
        ph, pw = max(1, int(h * sides[i, 0])), max(1, int(w * sides[i, 1]))
        top, left = int((h - ph) * corners[i, 0]), int((w - pw) * corners[i, 1])
        mask[i, :, top : top + ph, left : left + pw] = 1
    return x * (1 - mask) + flat * mask, mask


def local_style_where(
    where: str, faces: torch.Tensor | None, flat: torch.Tensor | None
) -> torch.Tensor | None:
    """The weight of each pixel in local_style_loss for --local-style-where: None for
    "all"; 1 outside the face masks for "off-faces" (the Starry Night's dabs were painted
    over eyes, issue 25 round five); the flat patches' mask for "flat"."""
    if where == "all":
        return None
    if where == "off-faces" and faces is not None:
        return 1.0 - faces.float()
    if where == "flat" and flat is not None:
        return flat.float()
    raise ValueError(f"local style {where!r} without its masks")


def temporal_loss(
    y: torch.Tensor,
    y_moved: torch.Tensor,
    theta: torch.Tensor,
    scale: torch.Tensor | None = None,
) -> torch.Tensor:
    """|| T(f(x)) - f(T(x)) ||^2 over the pixels the motion does not invent; `scale` (N,)
    weighs the samples (each style's own temporal weight in a multi-style batch)."""
    mask = valid_mask(theta, y)
    diff = (warp(y.float(), theta) - y_moved.float()).pow(2) * mask
    per_sample = diff.sum(dim=(1, 2, 3))
    if scale is not None:
        per_sample = per_sample * scale.to(per_sample)
    return per_sample.sum() / (mask.sum() * y.shape[1]).clamp_min(1.0)
