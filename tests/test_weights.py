import logging
import os
import pickle

import pytest
import torch

from livestyle.core.errors import WeightsError
from livestyle.discovery import load_styles, scan_styles
from livestyle.model import VARIANTS, TransformerNet
from livestyle.weights import StyleInfo, load_style, read_style_infos, save_style


def make_style(folder, name, variant="lite", seed=0, order=1000):
    torch.manual_seed(seed)
    net = TransformerNet(VARIANTS[variant])
    info = StyleInfo(
        name,
        net.config,
        title="Painting",
        artist="Artist",
        year="1900",
        licence="public domain",
        order=order,
        training={"steps": 3},
    )
    return net, save_style(folder / f"{name}.{variant}.safetensors", net, info)


def test_round_trip_keeps_metadata_and_weights(tmp_path):
    net, path = make_style(tmp_path, "wave")
    loaded, info = load_style(path)
    assert (info.name, info.title, info.artist, info.year, info.licence) == (
        "wave",
        "Painting",
        "Artist",
        "1900",
        "public domain",
    )
    assert info.variant == "lite" and info.training == {"steps": 3}
    for key, value in net.state_dict().items():
        # stored in half precision
        torch.testing.assert_close(loaded.state_dict()[key], value.half().float())


def test_a_single_style_file_keeps_its_stroke_scale_marks_ink_colour_and_dots(tmp_path):
    from dataclasses import replace

    net, path = make_style(tmp_path, "wave")
    assert (read_style_infos(path)[0].stroke_scale, read_style_infos(path)[0].marks) == (1, 0)
    first = read_style_infos(path)[0]
    assert (first.ink, first.colour, first.dots) == (0, 0, 0)
    info = replace(first, stroke_scale=1.25, marks=0.4, ink=0.75, colour=0.5, dots=0.25)
    saved = read_style_infos(save_style(path, net, info))[0]
    own = (saved.stroke_scale, saved.marks, saved.ink, saved.colour, saved.dots)
    assert own == (1.25, 0.4, 0.75, 0.5, 0.25)
    with pytest.raises(ValueError, match="stroke_scale"):
        StyleInfo.from_metadata({**info.to_metadata(), "stroke_scale": "0.1"})
    with pytest.raises(ValueError, match="marks"):
        StyleInfo.from_metadata({**info.to_metadata(), "marks": "nan"})
    with pytest.raises(ValueError, match="ink"):
        StyleInfo.from_metadata({**info.to_metadata(), "ink": "1.5"})
    with pytest.raises(ValueError, match="colour"):
        StyleInfo.from_metadata({**info.to_metadata(), "colour": "-1"})
    with pytest.raises(ValueError, match="dots"):
        StyleInfo.from_metadata({**info.to_metadata(), "dots": "2"})


def test_mismatched_shapes_are_refused_with_file_and_tensor_named(tmp_path):
    net = TransformerNet(VARIANTS["lite"])
    # Claims to be the standard network but carries lite tensors.
    info = StyleInfo("liar", VARIANTS["standard"])
    path = save_style(tmp_path / "liar.safetensors", net, info)
    with pytest.raises(WeightsError) as err:
        load_style(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    assert "shape" in message or "missing" in message


def test_missing_tensor_is_refused(tmp_path):
    _, path = make_style(tmp_path, "x")
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    tensors = load_file(str(path))
    tensors.pop(next(iter(tensors)))
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(WeightsError, match="missing"):
        load_style(path)


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\x00" * 100])
def test_garbage_files_raise_weights_error(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match="bad.safetensors"):
        read_style_infos(path)[0]


def test_truncated_file_is_skipped_and_others_load(tmp_path, caplog):
    make_style(tmp_path, "good", seed=1)
    _, bad = make_style(tmp_path, "broken", seed=2)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    with caplog.at_level(logging.WARNING):
        loaded = load_styles(scan_styles([tmp_path]))
    assert [info.name for _, info in loaded] == ["good"]
    assert "broken" in caplog.text


def test_scan_prefers_variant_and_orders_by_key(tmp_path):
    make_style(tmp_path, "b", "lite", order=2)
    make_style(tmp_path, "b", "standard", order=2)
    make_style(tmp_path, "a", "lite", order=5)
    make_style(tmp_path, "c", "lite", order=1)
    assert [(s.name, s.variant) for s in scan_styles([tmp_path], "standard")] == [
        ("c", "lite"),
        ("b", "standard"),
        ("a", "lite"),
    ]
    assert [(s.name, s.variant) for s in scan_styles([tmp_path], "lite")][1] == ("b", "lite")


class RunsCode:
    """Unpickled, it makes the folder `marker`: a pickle runs whatever it names."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_style_files_are_never_unpickled(tmp_path, monkeypatch):
    """A style file is data, never code (the README's promise): pickled payloads under a
    style file's name are skipped without running, and no unpickler is ever called."""
    make_style(tmp_path, "good")
    marker = tmp_path / "code-ran"
    (tmp_path / "evil.lite.safetensors").write_bytes(pickle.dumps(RunsCode(marker)))
    torch.save({"net": RunsCode(marker)}, tmp_path / "checkpoint.lite.safetensors")

    def refuse(*_args, **_kwargs):
        raise AssertionError("a style file was unpickled")

    for module, name in [
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
        (torch, "load"),
    ]:
        monkeypatch.setattr(module, name, refuse)
    loaded = load_styles(scan_styles([tmp_path]))
    assert [info.name for _, info in loaded] == ["good"]
    assert not marker.exists()
