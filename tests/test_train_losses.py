"""Training losses: the Gram matrices of the style loss and the temporal term's masking."""

from __future__ import annotations

import pytest
import torch

from livestyle.train.losses import gram, random_motion, temporal_loss, valid_mask, warp


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
