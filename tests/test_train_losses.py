"""Training losses: the Gram matrices of the style loss and the temporal term's masking."""

from __future__ import annotations

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
