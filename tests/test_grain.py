# ruff: noqa: F811
"""The canvas grain: a fixed pattern given to the network as a 4th input, so it can paint
steady marks on flat areas. The pattern itself, the network with it in torch and in the ONNX
graph, starting a grain network from one without, and how training feeds it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from livestyle.core.errors import LivestyleError
from livestyle.grain import GRAIN_SIZES_KEPT, GRAIN_STD, grain_field, with_grain
from livestyle.model import VARIANTS, NetConfig, TransformerNet, style_views, variant_name
from livestyle.train import trainer as trainer_module
from livestyle.train.losses import random_motion, warp
from livestyle.train.plan import start_from
from livestyle.weights import StyleInfo, load_network, load_style, save_network
from tests.test_train import _argv, _train, data, one_thread, painting  # noqa: F401


def grain_network(variant: str, styles: int = 0, seed: int = 0) -> TransformerNet:
    """A network with the grain input and random weights everywhere, the grain's too."""
    net = TransformerNet(replace(VARIANTS[variant], grain=GRAIN_STD), styles=styles)
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if ".norm." not in name:
                param.uniform_(-0.3, 0.3)
    return net.eval()


def grain_inputs(net: TransformerNet) -> torch.Tensor:
    """The first convolution's weights on the grain channel."""
    weight = net.down[1 if net.config.shuffle else 0].conv.weight
    if not net.config.shuffle:
        return weight[:, 3:]
    return weight.reshape(weight.shape[0], 4, 4, *weight.shape[2:])[:, :, 3]


def test_the_grain_is_one_endless_pattern_of_the_set_strength() -> None:
    whole = grain_field(96, 128)
    part = grain_field(40, 50, top=7, left=11)
    assert part.shape == (1, 1, 40, 50)
    assert torch.allclose(part, whole[..., 7:47, 11:61], atol=1e-6)
    assert whole.std().item() == pytest.approx(GRAIN_STD, rel=0.15)
    assert abs(whole.mean().item()) < 0.05
    # Smooth at the pixel (a move by bilinear resampling keeps it), unlike itself a few px over.
    field = whole[0, 0]

    def alike(lag: int) -> float:
        pairs = torch.stack([field[:, :-lag].flatten(), field[:, lag:].flatten()])
        return float(torch.corrcoef(pairs)[0, 1])

    assert alike(1) > 0.85 and abs(alike(5)) < 0.5
    assert torch.equal(grain_field(96, 128), whole)  # the same on every call


def test_the_grain_flag_is_a_config_option_of_any_variant() -> None:
    for variant in ("lite", "standard"):
        config = replace(VARIANTS[variant], grain=2.0)
        assert config.to_dict()["grain"] == 2.0 and config.input_channels == 4
        assert NetConfig.from_dict(config.to_dict()) == config
        assert variant_name(config) == variant
    assert "grain" not in VARIANTS["lite"].to_dict()  # files without it read as before
    for wrong in ("yes", True, -1.0, float("nan")):
        with pytest.raises(ValueError, match="invalid"):
            NetConfig.from_dict({**VARIANTS["lite"].to_dict(), "grain": wrong})


def roughness(picture: torch.Tensor) -> float:
    """Mean step between neighbouring 2x2 blocks (the lite network's output unit), inside."""
    blocks = F.avg_pool2d(picture, 2)[..., 24:-24, 24:-24]
    return (blocks[..., 1:, :] - blocks[..., :-1, :]).abs().mean().item()


@pytest.mark.parametrize("variant", ["lite", "standard"])
def test_the_grain_puts_steady_marks_on_a_smooth_picture(variant: str) -> None:
    net = grain_network(variant)
    y, x = torch.meshgrid(torch.linspace(0, 1, 256), torch.linspace(0, 1, 256), indexing="ij")
    smooth = torch.stack([0.2 + 0.6 * x, 0.3 + 0.4 * y, 0.5 + 0.3 * (x - y)])[None]
    with torch.no_grad():
        marked = net(smooth)
        again = net(smooth)
        grain_inputs(net).zero_()
        plain = net(smooth)
    assert roughness(marked) > 4 * roughness(plain)
    assert torch.equal(marked, again)  # fixed to the screen: the same marks every frame


def test_the_grain_field_of_each_size_is_made_once_and_recent_sizes_kept() -> None:
    cache: dict = {}
    first = with_grain(torch.rand(2, 3, 16, 20), GRAIN_STD, cache)
    assert first.shape == (2, 4, 16, 20)
    assert torch.equal(first[0, 3], first[1, 3])  # one canvas for every picture
    kept = next(iter(cache.values()))
    with_grain(torch.rand(1, 3, 16, 20), GRAIN_STD, cache)
    assert next(iter(cache.values())) is kept
    for side in range(GRAIN_SIZES_KEPT - 1):
        with_grain(torch.rand(1, 3, 8, 24 + side), GRAIN_STD, cache)
    with_grain(torch.rand(1, 3, 16, 20), GRAIN_STD, cache)  # used again: now the most recent
    with_grain(torch.rand(1, 3, 8, 100), GRAIN_STD, cache)
    assert len(cache) == GRAIN_SIZES_KEPT
    assert any(value is kept for value in cache.values())
    assert (8, 24, torch.device("cpu"), torch.float32, GRAIN_STD) not in cache  # the oldest went


@pytest.mark.parametrize("variant", ["lite", "standard"])
def test_a_network_starts_its_grain_from_one_without_painting_the_same(tmp_path, variant):
    """--init-from a network without the grain: the grain's weights start at 0, everything
    else is copied (the styles the run trains, by name, of more in the file), so the first
    pictures are exactly the old network's."""
    source = TransformerNet(VARIANTS[variant], styles=3)
    torch.manual_seed(1)
    with torch.no_grad():
        for param in source.parameters():
            param.uniform_(-0.3, 0.3)
    names = ("a", "b", "c")
    infos = [StyleInfo(name, source.config, index=i) for i, name in enumerate(names)]
    path = save_network(tmp_path / "plain.safetensors", source, infos, {})
    model = TransformerNet(replace(VARIANTS[variant], grain=GRAIN_STD), styles=2)
    start_from(model, path, ["c", "a"])
    stored, _ = load_network(path)
    assert torch.count_nonzero(grain_inputs(model)) == 0
    x = torch.rand(1, 3, 40, 52)
    with torch.no_grad():
        for row, name in enumerate(("c", "a")):
            model.select(row)
            stored.select(names.index(name))
            assert torch.allclose(model(x), stored(x), atol=1e-5)


def test_a_network_with_the_grain_starts_only_one_with_the_same_grain(tmp_path) -> None:
    source = grain_network("lite", styles=1)
    path = save_network(tmp_path / "g.safetensors", source, [StyleInfo("a", source.config)], {})
    for config in (VARIANTS["lite"], replace(VARIANTS["lite"], grain=2 * GRAIN_STD)):
        with pytest.raises(LivestyleError, match=f"--grain {GRAIN_STD:g} continues it"):
            start_from(TransformerNet(config, styles=1), path, ["a"])
    same = TransformerNet(source.config, styles=1)
    start_from(same, path, ["a"])
    assert torch.equal(grain_inputs(same), grain_inputs(load_network(path)[0]))


@pytest.mark.parametrize("variant", ["lite", "standard"])
def test_the_onnx_graph_makes_the_same_grain_as_torch(variant: str) -> None:
    pytest.importorskip("onnxruntime")
    from livestyle.engines.onnx import OnnxEngine, OnnxNet

    nets = style_views(grain_network(variant, styles=2))
    for size in ((48, 64), (37, 51)):  # the odd one is padded before the graph
        x = torch.rand(1, 3, *size)
        with torch.no_grad():
            expected = nets[1](x)
        torch.testing.assert_close(OnnxNet(nets[1])(x), expected, rtol=1e-4, atol=1e-3)
    # The engine's graph too, norm rows as inputs, and int8 still runs it.
    engine = OnnxEngine(nets, int8=True)
    assert engine.network(1)(x).shape == x.shape


def test_training_moves_each_crops_grain_with_its_photo(monkeypatch) -> None:
    """In training the grain is an input the trainer gives: from a random place of the
    pattern per crop, and the moved copy's grain moved with its photo, not noised, so the
    temporal term never teaches the network to ignore it."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 24, 32)
    grain = trainer_module.random_grain(x, gen, 2.0)
    assert grain.shape == (3, 1, 24, 32)
    assert not torch.allclose(grain[0], grain[1])
    assert grain.std().item() == pytest.approx(2.0, rel=0.2)  # at the network's strength

    seen: dict[str, torch.Tensor] = {}
    real_pair = trainer_module.temporal_pair

    def pair(batch, generator):
        moved, theta = real_pair(batch, generator)
        seen["theta"] = theta
        return moved, theta

    class Spy(torch.nn.Module):
        def forward(self, batch):
            seen["input"] = batch.detach().clone()
            raise StopIteration  # enough: the loss terms after it are tested elsewhere

    monkeypatch.setattr(trainer_module, "temporal_pair", pair)
    fake = type("Fake", (), {})()
    weights = type("W", (), {"temporal": 1.0})()
    fake.config = type("C", (), {"weights": weights, "flat_patches": 0.0})()
    fake.rngs = type("R", (), {"torch_gen": torch.Generator().manual_seed(1)})()
    fake.model = type(
        "M", (), {"config": replace(VARIANTS["lite"], grain=GRAIN_STD), "styles": 0}
    )()
    fake.net = Spy()
    with pytest.raises(StopIteration):
        trainer_module.Trainer.losses(fake, torch.rand(2, 3, 24, 32), torch.zeros(2, dtype=int))
    batch = seen["input"]
    assert batch.shape == (4, 4, 24, 32)
    still, moved = batch[:2, 3:], batch[2:, 3:]
    assert torch.allclose(moved, warp(still, seen["theta"]), atol=1e-6)
    assert not torch.allclose(moved, still)  # it did move (the photos did too)


def test_random_motion_is_what_moves_the_grain() -> None:
    # The spy above compares against losses.warp with the pair's own matrices: a sanity
    # check that those matrices move a picture at all.
    theta = random_motion(2, torch.Generator().manual_seed(3))
    field = grain_field(24, 32).expand(2, 1, 24, 32)
    assert not torch.allclose(warp(field, theta), field)


def test_a_trained_grain_network_loads_and_stylizes(tmp_path) -> None:
    from livestyle.stylizer import Stylizer

    net = grain_network("lite", styles=2)
    infos = [StyleInfo(n, net.config, index=i) for i, n in enumerate(("a", "b"))]
    path = save_network(tmp_path / "g.lite.safetensors", net, infos, {})
    loaded, read = load_network(path)
    assert loaded.config.grain and read[0].variant == "lite"
    views = style_views(loaded)
    stylizer = Stylizer([(v, i) for v, i in zip(views, read, strict=True)], "cpu")
    frame = np.full((60, 80, 3), 128, np.uint8)
    picture = stylizer.stylize(frame, index=1).image
    assert picture.shape == frame.shape and picture[10:-10, 10:-10].std() > 1.0


def test_train_grain_writes_a_network_that_takes_the_grain(tmp_path, data, painting) -> None:
    result = _train(_argv(tmp_path, data, painting, "--steps", "2", "--grain", "3"))
    model, info = load_style(result.style_path)
    assert model.config.grain == 3.0 and info.variant == "lite"
    assert torch.count_nonzero(grain_inputs(model)) > 0  # trained, from 0 at most


def test_train_flat_patches_are_in_the_recipe(tmp_path, data, painting) -> None:
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--grain", "3", "--flat-patches", "1")
    result = _train(argv)
    assert load_style(result.style_path)[1].training["flat_patches"] == 1.0
