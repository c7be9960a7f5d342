"""One network, many styles: conditional instance norm, its files, blends and cross-fades."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from livestyle.core.errors import LivestyleError, WeightsError
from livestyle.discovery import load_styles, scan_styles
from livestyle.engines.eager import EagerEngine
from livestyle.engines.mix import Blender, blend, blend_into, crossfade, dominant, normalized
from livestyle.model import VARIANTS, TransformerNet, norm_parameters, style_views
from livestyle.stylizer import Stylizer
from livestyle.weights import load_network, read_style_infos
from tests.media import write_network, write_styles


def _net(styles: int = 3) -> TransformerNet:
    torch.manual_seed(0)
    net = TransformerNet(VARIANTS["lite"], styles=styles)
    with torch.no_grad():
        for _, p in norm_parameters(net):
            p.add_(torch.randn_like(p) * 0.5)
    return net.eval()


def _frame(seed: int = 0, shape=(36, 44, 3)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


# ----------------------------------------------------------------------------- the network


def test_each_view_is_the_network_with_that_style_selected() -> None:
    net = _net()
    views = style_views(net)
    x = torch.rand(1, 3, 32, 40)
    with torch.no_grad():
        for index, view in enumerate(views):
            net.select(index)
            torch.testing.assert_close(view(x), net(x), atol=1e-4, rtol=1e-4)
        # Different styles give different pictures: the norms are per style.
        assert (views[0](x) - views[1](x)).abs().max() > 1e-2
    # The views share the convolutions (one body), not copies of them.
    assert views[0].down[1].conv is views[2].down[1].conv


def test_per_sample_styles_in_one_batch() -> None:
    net = _net()
    x = torch.rand(2, 3, 32, 32)
    net.select(torch.tensor([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))
    with torch.no_grad():
        both = net(x)
        net.select(2)
        first = net(x[:1])
        net.select(0)
        second = net(x[1:])
    torch.testing.assert_close(both, torch.cat([first, second]), atol=1e-4, rtol=1e-4)


def test_a_single_style_network_has_nothing_to_select() -> None:
    with pytest.raises(ValueError):
        TransformerNet(VARIANTS["lite"]).select(0)
    with pytest.raises(RuntimeError, match="select"):
        TransformerNet(VARIANTS["lite"], styles=2)(torch.rand(1, 3, 16, 16))


# ----------------------------------------------------------------------------- files


def test_a_network_file_round_trips_every_style(tmp_path) -> None:
    path = write_network(tmp_path / "net.lite.safetensors")
    infos = read_style_infos(path)
    assert [(i.name, i.index, i.order, i.title) for i in infos] == [
        ("red", 0, 10, "Painting red"),
        ("green", 1, 11, "Painting green"),
        ("blue", 2, 12, "Painting blue"),
    ]
    net, loaded = load_network(path)
    assert net.styles == 3 and [i.name for i in loaded] == ["red", "green", "blue"]
    styles = load_styles(infos)
    # Every view of one file shares one body: loaded once, one set of conv tensors.
    first, last = styles[0][0].down[1].conv.weight, styles[2][0].down[1].conv.weight
    assert first.data_ptr() == last.data_ptr()
    assert not torch.equal(styles[0][0].down[1].norm.weight, styles[1][0].down[1].norm.weight)


def test_each_style_of_a_network_keeps_its_stroke_scale(tmp_path) -> None:
    """Written, read back; a file from before stroke scales (no key) reads as 1."""
    path = write_network(tmp_path / "net.lite.safetensors")
    with safe_open(str(path), framework="pt") as f:
        entries = json.loads(f.metadata()["styles"])
    assert [entry["stroke_scale"] for entry in entries] == [1.0, 1.0, 1.0]
    entries[1]["stroke_scale"] = 1.5
    del entries[2]["stroke_scale"]
    _rewrite_meta(path, styles=json.dumps(entries))
    assert [i.stroke_scale for i in read_style_infos(path)] == [1.0, 1.5, 1.0]


def test_scan_lists_network_styles_beside_single_style_files(tmp_path) -> None:
    folder = write_styles(tmp_path / "styles", names=("alpha",))
    write_network(folder / "net.lite.safetensors")
    names = [info.name for info in scan_styles([folder], prefer_variant="lite")]
    assert names == ["alpha", "red", "green", "blue"]  # by order: 0, then 10, 11, 12
    loaded = load_styles(scan_styles([folder], prefer_variant="lite"))
    assert [info.name for _, info in loaded] == names


def _rewrite_meta(path, **changes) -> None:
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    save_file(load_file(str(path)), str(path), metadata={**meta, **changes})


@pytest.mark.parametrize(
    "styles",
    [
        "{}",  # not a list
        "[]",  # no styles
        json.dumps([{"name": "a"}, {"name": "a"}, {"name": "b"}]),  # a repeated name
        json.dumps([{"title": "no name"}, {"name": "b"}, {"name": "c"}]),
        json.dumps([{"name": f"s{i}"} for i in range(1025)]),  # implausibly many
        json.dumps([{"name": "a", "stroke_scale": 50}, {"name": "b"}, {"name": "c"}]),
        "not json",
    ],
)
def test_malformed_style_lists_are_one_line_errors(tmp_path, styles) -> None:
    path = write_network(tmp_path / "net.lite.safetensors")
    _rewrite_meta(path, styles=styles)
    with pytest.raises(WeightsError, match="net.lite.safetensors"):
        read_style_infos(path)


def test_a_style_list_that_does_not_match_the_tensors_is_refused(tmp_path) -> None:
    path = write_network(tmp_path / "net.lite.safetensors")
    _rewrite_meta(path, styles=json.dumps([{"name": "a"}, {"name": "b"}]))  # 2 rows, not 3
    with pytest.raises(WeightsError, match="has shape"):
        load_network(path)


# ----------------------------------------------------------------------------- blends


def test_mix_arithmetic() -> None:
    assert normalized([(0, 3.0), (2, 1.0), (0, 0.0)]) == ((0, 0.75), (2, 0.25))
    assert normalized([(1, 2.0), (1, 2.0)]) == ((1, 1.0),)
    with pytest.raises(ValueError):
        normalized([(0, 0.0)])
    with pytest.raises(ValueError):
        normalized([(0, -1.0), (1, 2.0)])
    assert dominant(((0, 0.4), (3, 0.6))) == 3
    half = crossfade(((0, 1.0),), ((1, 1.0),), 0.5)
    assert dict(half) == pytest.approx({0: 0.5, 1: 0.5})
    assert crossfade(((0, 1.0),), ((1, 1.0),), 1.0) == ((1, 1.0),)


def test_styles_of_different_bodies_do_not_blend(tmp_path) -> None:
    singles = load_styles(scan_styles([write_styles(tmp_path / "a", names=("x", "y"))]))
    network = load_styles(read_style_infos(write_network(tmp_path / "n.lite.safetensors")))
    blender = Blender([m for m, _ in singles + network])
    assert blender.resolve(((0, 0.3), (1, 0.7))) == 1  # two single files: the heavier one
    assert blender.resolve(((2, 0.5), (3, 0.5))) == ((2, 0.5), (3, 0.5))
    assert blender.resolve(((3, 1.0),)) == 3


def _blended_reference(net: TransformerNet, weights: list[float], frame: np.ndarray):
    """The multi-style network itself, run with the blend selected."""
    engine = EagerEngine([net], torch.device("cpu"), torch.float32)
    net.select(torch.tensor(weights))
    return engine.stylize(frame, 0, frame.shape[:2], 1.0)


def test_eager_and_onnx_engines_run_blends_as_the_network_would() -> None:
    pytest.importorskip("onnxruntime")
    from livestyle.engines.onnx import OnnxEngine

    net = _net()
    views = style_views(net)
    frame = _frame()
    reference = _blended_reference(net, [0.25, 0.0, 0.75], frame)
    mix = ((0, 0.25), (2, 0.75))
    eager = EagerEngine(views, torch.device("cpu"), torch.float32)
    onnx = OnnxEngine(views, threads=1)
    assert onnx.sessions == 1  # one body, one session
    for engine in (eager, onnx):
        out = engine.stylize(frame, mix, frame.shape[:2], 1.0)
        assert np.abs(out.astype(int) - reference.astype(int)).max() <= 2, engine.name
        # ... and differs from either style alone.
        alone = engine.stylize(frame, 2, frame.shape[:2], 1.0)
        assert np.abs(out.astype(int) - alone.astype(int)).max() > 10


def test_blend_is_the_weighted_sum_position_by_position() -> None:
    styles = [[torch.full((3,), 1.0), torch.full((2,), 10.0)], [torch.zeros(3), torch.ones(2)]]
    styles.append([torch.full((3,), 5.0), torch.full((2,), 5.0)])
    mixed = blend(styles, ((0, 0.25), (2, 0.75)))
    torch.testing.assert_close(mixed[0], torch.full((3,), 4.0))
    torch.testing.assert_close(mixed[1], torch.full((2,), 6.25))
    targets = [torch.empty(3), torch.empty(2)]
    blend_into(targets, styles, ((1, 0.5), (2, 0.5)))
    torch.testing.assert_close(targets[0], torch.full((3,), 2.5))
    torch.testing.assert_close(targets[1], torch.full((2,), 3.0))
    assert styles[0][0].tolist() == [1.0, 1.0, 1.0]  # the styles' own tensors stay as they are


@pytest.mark.parametrize("backend", ["torch", "onnxruntime", "cuda-graph"])
def test_every_engine_blends_through_the_one_blend(backend: str, monkeypatch) -> None:
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
    from livestyle.engines import make_engine, mix

    net = _net()
    views = style_views(net)
    frame = _frame()
    reference = _blended_reference(net, [0.25, 0.0, 0.75], frame)
    calls: list[tuple] = []
    the_blend = mix.blend

    def counted(tensors, chosen):
        calls.append(chosen)
        return the_blend(tensors, chosen)

    monkeypatch.setattr("livestyle.engines.mix.blend", counted)
    monkeypatch.setattr("livestyle.engines.onnx.blend", counted)
    cpu = torch.device("cpu")
    engine = make_engine(backend, views, cpu, torch.float32, channels_last=False, layout_norm=False)
    blended = ((0, 0.25), (2, 0.75))
    out = engine.stylize(frame, blended, frame.shape[:2], 1.0)
    assert calls == [blended]
    assert np.abs(out.astype(int) - reference.astype(int)).max() <= 2, backend


def test_the_cuda_style_bank_blends_norms_and_keeps_the_body() -> None:
    from livestyle.engines.cuda import StyleBank

    views = style_views(_net())
    bank = StyleBank(views)
    bank.load(((0, 0.5), (1, 0.5)))
    for (name, live), a, b in zip(
        bank.live.named_parameters(), views[0].parameters(), views[1].parameters(), strict=True
    ):
        expected = (a + b) / 2 if ".norm." in name else a
        torch.testing.assert_close(live, expected)
    bank.load(1)
    for live, b in zip(bank.live.parameters(), views[1].parameters(), strict=True):
        assert torch.equal(live, b)


# ----------------------------------------------------------------------------- the Stylizer


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def network_styles(tmp_path):
    folder = write_styles(tmp_path / "styles", names=("alpha",))
    write_network(folder / "net.lite.safetensors")
    return load_styles(scan_styles([folder], prefer_variant="lite"))


def test_a_swap_within_a_network_cross_fades(network_styles) -> None:
    clock = _Clock()
    stylizer = Stylizer(network_styles, "cpu", backend="torch", clock=clock)
    red, blue = stylizer.find("red"), stylizer.find("blue")
    stylizer.select(red)
    clock.now += 1
    frame = _frame(1)
    before = stylizer.stylize(frame).image
    stylizer.select(blue)
    start = stylizer.stylize(frame).image  # the fade's first frame: still red
    assert np.abs(start.astype(int) - before.astype(int)).max() <= 1
    clock.now += 0.125
    middle = stylizer.stylize(frame)
    assert middle.style.name in ("red", "blue")
    clock.now += 0.2
    after = stylizer.stylize(frame).image
    reference = stylizer.stylize(frame, index=blue).image
    np.testing.assert_array_equal(after, reference)
    # Midway, the picture is neither style: a blend of the two.
    for end in (before, after):
        assert np.abs(middle.image.astype(int) - end.astype(int)).max() > 5


def test_a_swap_to_another_body_is_immediate(network_styles) -> None:
    clock = _Clock()
    stylizer = Stylizer(network_styles, "cpu", backend="torch", clock=clock)
    stylizer.select(stylizer.find("red"))
    clock.now += 1
    stylizer.select(stylizer.find("alpha"))
    frame = _frame(2)
    np.testing.assert_array_equal(
        stylizer.stylize(frame).image, stylizer.stylize(frame, index=stylizer.find("alpha")).image
    )


def test_style_option_blends_and_refuses_what_cannot_blend(network_styles) -> None:
    from livestyle.choices import choose_styles, parse_style_choice

    assert parse_style_choice("red:0.6, blue:0.4") == [("red", 0.6), ("blue", 0.4)]
    assert parse_style_choice("red") == [("red", 1.0)]
    for bad in ("red:x", "red:-1", ":0.5", "red:0,blue:0"):
        with pytest.raises(LivestyleError):
            parse_style_choice(bad)
    stylizer = Stylizer(network_styles, "cpu", backend="torch")
    choose_styles(stylizer, "red:0.6,blue:0.4")
    mix = dict(stylizer.mix)
    assert mix == pytest.approx({stylizer.find("red"): 0.6, stylizer.find("blue"): 0.4})
    assert stylizer.active.name == "red"
    with pytest.raises(LivestyleError, match="unknown style 'mauve'"):
        choose_styles(stylizer, "red:0.5,mauve:0.5")
    with pytest.raises(LivestyleError, match="only styles of one multi-style network"):
        choose_styles(stylizer, "red:0.5,alpha:0.5")


def test_stylize_writes_a_blend_named_after_its_styles(styles_env, styles_dir, tmp_path, capsys):
    import cv2

    from livestyle.cli import main

    write_network(styles_dir / "net.lite.safetensors")
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), _frame(3, (30, 40, 3)))
    out = tmp_path / "out"
    assert main(["stylize", str(image), "--style", "red:0.5,blue:0.5", "-o", f"{out}/"]) == 0
    blended = cv2.imread(str(out / "photo-red+blue.png"))
    assert main(["stylize", str(image), "--style", "red", "-o", f"{out}/"]) == 0
    red = cv2.imread(str(out / "photo-red.png"))
    assert blended.shape == red.shape == (30, 40, 3)
    assert np.abs(blended.astype(int) - red.astype(int)).max() > 5
    assert main(["stylize", str(image), "--style", "red:1,alpha:1", "-o", f"{out}/"]) == 2
    assert "only styles of one multi-style network" in capsys.readouterr().err


def test_live_on_a_cpu_leaves_out_styles_only_the_standard_network_has(tmp_path, caplog):
    from livestyle.discovery import live_styles

    folder = write_styles(tmp_path / "styles", names=("alpha",))  # lite
    write_network(folder / "net.standard.safetensors", variant="standard")
    found = scan_styles([folder], prefer_variant="lite")
    assert [i.name for i in found] == ["alpha", "red", "green", "blue"]
    assert [i.name for i in live_styles(found, "lite")] == ["alpha"]
    assert "3 style(s) exist only as standard networks" in caplog.text
    assert live_styles(found, "standard") == found  # a GPU runs them all
    only_standard = [i for i in found if i.variant == "standard"]
    assert live_styles(only_standard, "lite") == only_standard  # slow beats nothing


def test_a_command_that_keeps_one_style_loads_only_the_styles_it_names(styles_env, styles_dir):
    """`stylize` never changes style: it loads (and calibrates int8 on) only those --style
    names; an unknown name still lists every installed style."""
    from livestyle.commands.options import load_stylizer
    from livestyle.config import StyleOptions

    write_network(styles_dir / "net.lite.safetensors")

    def loaded(style: str, only_chosen: bool) -> list[str]:
        options = StyleOptions(style=style, backend="torch")
        return [s.info.name for s in load_stylizer(options, only_chosen=only_chosen).styles]

    everything = loaded("red", only_chosen=False)
    assert len(everything) > 3 and {"red", "blue", "alpha"} <= set(everything)
    assert loaded("red", only_chosen=True) == ["red"]
    assert sorted(loaded("red:0.5,blue:0.5", only_chosen=True)) == ["blue", "red"]
    with pytest.raises(LivestyleError, match="unknown style 'mauve' \\(installed: .*alpha"):
        loaded("red:0.5,mauve:0.5", only_chosen=True)
