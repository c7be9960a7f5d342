# ruff: noqa: F811  (the fixtures imported from the other training tests)
"""--local-style-where: the local style term kept off the faces, or asked of the flat walls
only, with its masks moved and shifted as the pictures the loss network sees (issue 25)."""

from __future__ import annotations

import torch

import livestyle.train.losses as losses_module
import livestyle.train.trainer as trainer_module
from livestyle.weights import read_style_infos
from tests.test_train import _train, data, one_thread, painting  # noqa: F401
from tests.test_train_multistyle import (
    _config,
    _faces_file,
    _multi_argv,
    _trainer,
    paintings,  # noqa: F401
)

SHIFT_LEFT = torch.tensor([[1.0, 0.0, 0.25], [0.0, 1.0, -0.25]])  # 8 px left, 8 px down


def _spied_losses(trainer, monkeypatch, x, faces=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The `where` the local style term got for this batch, and the photos (with their
    moved copies) the loss network saw, with the motion and the jitter made large."""
    monkeypatch.setattr(losses_module, "random_motion", lambda n, gen: SHIFT_LEFT.repeat(n, 1, 1))
    monkeypatch.setattr(trainer_module, "random_offset", lambda gen: (2, 7))
    wheres, seen = [], []
    real_loss, real_forward = trainer_module.local_style_loss, trainer.lossnet.forward

    def spy_loss(*args, where=None, **kwargs):
        wheres.append(where)
        return real_loss(*args, where=where, **kwargs)

    def spy_forward(pictures):
        seen.append(pictures)
        return real_forward(pictures)

    monkeypatch.setattr(trainer_module, "local_style_loss", spy_loss)
    monkeypatch.setattr(trainer.lossnet, "forward", spy_forward)
    with torch.no_grad():
        trainer.losses(x, torch.tensor([0, 1]), faces)
    [where] = wheres
    return where, seen[1]  # the second look: the photos themselves


def test_off_faces_keeps_the_local_style_term_off_the_moved_and_shifted_faces(
    tmp_path, data, paintings, monkeypatch
) -> None:
    faces = _faces_file(tmp_path, data)
    extra = ["--faces", faces, "--local-style-weight", "1", "--local-style-where", "off-faces"]
    trainer = _trainer(_config(_multi_argv(tmp_path, data, paintings, *extra)))
    trainer.set_styles([torch.rand(1, 3, 32, 32) for _ in range(3)])
    x = torch.zeros(2, 3, 64, 64)
    x[:, :, 16:40, 20:44] = 1.0  # a white square where the face mask is
    where, photos = _spied_losses(trainer, monkeypatch, x, x[:, :1].clone())
    assert where.shape[0] == photos.shape[0] == 4
    torch.testing.assert_close(
        where, 1 - photos[:, :1].clamp(0, 1), rtol=0, atol=0.15
    )  # the copy is noisy
    assert float((where[2:] - where[:2]).abs().max()) > 0.9  # the copies' faces moved


def test_flat_asks_the_local_style_term_of_the_textureless_walls_only(
    tmp_path, data, paintings, monkeypatch
) -> None:
    extra = ["--local-style-weight", "1", "--flat-patches", "1", "--local-style-where", "flat"]
    trainer = _trainer(_config(_multi_argv(tmp_path, data, paintings, *extra)))
    trainer.set_styles([torch.rand(1, 3, 32, 32) for _ in range(3)])
    where, photos = _spied_losses(trainer, monkeypatch, torch.rand(2, 3, 64, 64))
    detail = (photos[..., 1:] - photos[..., :-1]).abs().mean(1)  # (N, H, W - 1)
    walls, textured = where[:, 0, :, 1:] > 0.99, where[:, 0, :, 1:] < 0.01
    assert walls.any(dim=(1, 2)).all() and textured.any(dim=(1, 2)).all()
    assert float(detail[walls].mean()) < 0.1 * float(detail[textured].mean())


def test_a_local_style_where_run_trains_and_records_it(tmp_path, data, paintings) -> None:
    extra = ["--local-style-weight", "1", "--flat-patches", "1", "--local-style-where", "flat"]
    result = _train(_multi_argv(tmp_path, data, paintings, *extra))
    assert all(s.losses["local_style"] >= 0 for s in result.history)
    training = read_style_infos(result.style_path)[0].training
    assert training["local_style_where"] == "flat" and training["flat_patches"] == 1.0
    plain = _train(_multi_argv(tmp_path / "plain", data, paintings, "--local-style-weight", "1"))
    assert "local_style_where" not in read_style_infos(plain.style_path)[0].training
