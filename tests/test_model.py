import pytest
import torch

from livestyle.model import VARIANTS, NetConfig, TransformerNet, parameter_count, variant_name


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


def test_lite_variant_is_much_smaller():
    lite = parameter_count(TransformerNet(VARIANTS["lite"]))
    assert lite < parameter_count(TransformerNet(VARIANTS["standard"])) / 5


def test_a_former_lite_shape_still_counts_as_lite():
    """Files of the narrower lite network users trained before it widened stay CPU styles."""
    former = NetConfig((8, 16, 32), 4)
    assert former != VARIANTS["lite"]
    assert variant_name(former) == "lite"
    assert variant_name(NetConfig((8, 16, 32), 3)) == "custom"


def test_no_transposed_convolutions_and_reflection_padding():
    net = TransformerNet()
    kinds = {type(m).__name__ for m in net.modules()}
    assert "ConvTranspose2d" not in kinds
    assert "ReflectionPad2d" in kinds and "InstanceNorm2d" in kinds


def test_config_round_trip_and_validation():
    cfg = NetConfig((8, 16, 32), 2)
    assert NetConfig.from_dict(cfg.to_dict()) == cfg
    assert variant_name(VARIANTS["lite"]) == "lite" and variant_name(cfg) == "custom"
    with pytest.raises(ValueError, match="unknown"):
        NetConfig.from_dict({"widths": [8, 16, 32], "res_blocks": 2, "kernel": 5})
    with pytest.raises(ValueError, match="invalid"):
        NetConfig.from_dict({"widths": [8, 16], "res_blocks": 2})
