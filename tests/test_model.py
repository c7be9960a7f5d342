from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from livestyle.model import (
    VARIANTS,
    DepthToSpace,
    NetConfig,
    SpaceToDepth,
    TransformerNet,
    parameter_count,
    variant_name,
)


@pytest.mark.parametrize("variant", ["standard", "lite"])
@pytest.mark.parametrize("size", [(37, 51), (64, 64), (1, 3, 33, 17)[2:], (9, 130)])
def test_output_has_input_shape_for_odd_sizes(variant, size):
    net = TransformerNet(VARIANTS[variant]).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        assert net(x).shape == x.shape


def test_standard_variant_parameter_count():
    # Johnson et al.: 9x9 conv, two strided convs, 5 residual blocks of 128, two upsample convs.
    assert parameter_count(TransformerNet(VARIANTS["standard"])) == 1_679_235


def conv_work(net: TransformerNet, height: int, width: int) -> dict[str, int]:
    """Multiply-adds of every convolution for one frame, split by whether the convolution's
    output is at the input's full resolution."""
    work = {"full": 0, "lower": 0}

    def count(conv: nn.Conv2d, _inputs: tuple, out: torch.Tensor) -> None:
        k_h, k_w = conv.kernel_size
        macs = out.numel() * conv.in_channels * k_h * k_w
        work["full" if out.shape[-2:] == (height, width) else "lower"] += macs

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        net(torch.rand(1, 3, height, width))
    for hook in hooks:
        hook.remove()
    return work


def test_lite_does_no_work_at_full_resolution_and_a_fifth_of_the_standard_network():
    """The CPU network's layout: every convolution below full resolution (there, narrow
    convolutions were half the former lite network's time), a fifth of Johnson's work."""
    lite = conv_work(TransformerNet(VARIANTS["lite"]), 64, 96)
    standard = conv_work(TransformerNet(VARIANTS["standard"]), 64, 96)
    former = conv_work(TransformerNet(NetConfig((16, 32, 64), 3)), 64, 96)
    assert lite["full"] == 0 and former["full"] > 0 and standard["full"] > 0
    assert sum(lite.values()) < sum(standard.values()) / 5
    # More of its work where the style lives: the body outweighs the former network's.
    assert lite["lower"] > former["lower"]


@pytest.mark.parametrize(
    "former",
    [
        NetConfig((8, 16, 32), 4),
        NetConfig((16, 32, 64), 3),
        NetConfig((12, 32, 64), 5, shuffle=True),  # reflection-padded, until its retraining
    ],
)
def test_a_former_lite_shape_still_counts_as_lite(former: NetConfig):
    """Files of the lite networks users trained before it changed shape stay CPU styles."""
    assert former != VARIANTS["lite"]
    assert variant_name(former) == "lite"
    assert variant_name(NetConfig((8, 16, 32), 3)) == "custom"
    assert variant_name(NetConfig((12, 32, 64), 3, shuffle=True)) == "custom"


def test_space_to_depth_and_pixel_shuffle_move_pixels_without_losing_any():
    x = torch.rand(2, 3, 8, 12)
    blocks = SpaceToDepth(2)(x)
    assert blocks.shape == (2, 12, 4, 6)
    # Block position major (ONNX's order): channels 0-2 are each block's top-left pixel.
    assert torch.equal(blocks[:, :3], x[:, :, ::2, ::2])
    assert torch.equal(blocks[:, 9:], x[:, :, 1::2, 1::2])
    assert torch.equal(DepthToSpace(2)(F.pixel_unshuffle(x, 2)), x)


def test_a_fresh_lite_network_upsamples_like_nearest_neighbour():
    """Before training, every 2x2 block of the shuffled output is one colour: the output
    convolution starts with the same filter at each block position (no grid to unlearn)."""
    torch.manual_seed(0)
    out = TransformerNet(VARIANTS["lite"]).eval()(torch.rand(1, 3, 32, 48)).detach()
    corners = [out[..., dy::2, dx::2] for dy in (0, 1) for dx in (0, 1)]
    assert all(torch.allclose(corner, corners[0], atol=1e-6) for corner in corners)
    assert float(corners[0].std()) > 0  # not a flat picture: the blocks differ


def test_no_transposed_convolutions_and_reflection_padding():
    net = TransformerNet()
    kinds = {type(m).__name__ for m in net.modules()}
    assert "ConvTranspose2d" not in kinds
    assert "ReflectionPad2d" in kinds and "InstanceNorm2d" in kinds


def test_the_cpu_network_pads_inside_its_convolutions():
    """The lite network has no pad op (a separate one was 13% of its int8 time in ONNX
    Runtime), and zero padding keeps the output's size as reflection did."""
    lite = TransformerNet(VARIANTS["lite"])
    kinds = {type(m).__name__ for m in lite.modules()}
    assert "ReflectionPad2d" not in kinds
    convs = [m for m in lite.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.padding == (c.kernel_size[0] // 2,) * 2 for c in convs)
    reflected = TransformerNet(replace(VARIANTS["lite"], padding="reflect"))
    reflected.load_state_dict(lite.state_dict())  # the same parameters, padded otherwise
    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        same, other = lite(x), reflected(x)
    assert same.shape == other.shape == x.shape
    assert not torch.allclose(same, other)


def test_config_round_trip_and_validation():
    cfg = NetConfig((8, 16, 32), 2)
    assert NetConfig.from_dict(cfg.to_dict()) == cfg
    assert variant_name(VARIANTS["lite"]) == "lite" and variant_name(cfg) == "custom"
    with pytest.raises(ValueError, match="unknown"):
        NetConfig.from_dict({"widths": [8, 16, 32], "res_blocks": 2, "kernel": 5})
    with pytest.raises(ValueError, match="invalid"):
        NetConfig.from_dict({"widths": [8, 16], "res_blocks": 2})
    shuffled = VARIANTS["lite"]
    assert shuffled.shuffle and NetConfig.from_dict(shuffled.to_dict()) == shuffled
    assert "shuffle" not in VARIANTS["standard"].to_dict()  # older readers still read it
    with pytest.raises(ValueError, match="first width"):
        NetConfig.from_dict({"widths": [16, 32, 64], "res_blocks": 3, "shuffle": True})
    with pytest.raises(ValueError, match="invalid"):
        NetConfig.from_dict({"widths": [12, 32, 64], "res_blocks": 3, "shuffle": "yes"})
    assert shuffled.to_dict()["padding"] == "zeros"
    assert "padding" not in VARIANTS["standard"].to_dict()  # reflection, as files always had
    assert NetConfig.from_dict({"widths": [12, 32, 64], "res_blocks": 5, "shuffle": True}) == (
        replace(shuffled, padding="reflect")
    )
    with pytest.raises(ValueError, match="padding"):
        NetConfig.from_dict({"widths": [8, 16, 32], "res_blocks": 2, "padding": "circular"})
