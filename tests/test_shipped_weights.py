"""Every shipped style (livestyle/shipped_styles/) loads, has full metadata, really stylizes."""

import json

import numpy as np
import pytest

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, discover_style_files, load_styles
from livestyle.stylizer import Stylizer
from livestyle.train.paintings import read_manifest
from livestyle.video.demo import DemoSource
from livestyle.weights import REQUIRED_METADATA, read_style_infos

FILES = discover_style_files([PACKAGE_WEIGHTS_DIR])
STYLES = [info for path in FILES for info in read_style_infos(path)]
pytestmark = pytest.mark.skipif(not FILES, reason="no shipped styles in livestyle/shipped_styles/")


def test_weights_folder_is_compact():
    total = sum(p.stat().st_size for p in PACKAGE_WEIGHTS_DIR.rglob("*") if p.is_file())
    assert total < 40 * 1024 * 1024


def test_every_listed_painting_ships_in_each_variant():
    """paintings.json (the training manifest) and the shipped networks name the same styles."""
    listed = [e["name"] for e in json.loads((PACKAGE_WEIGHTS_DIR / "paintings.json").read_text())]
    by_variant: dict[str, list[str]] = {}
    for info in STYLES:
        by_variant.setdefault(info.variant, []).append(info.name)
    for variant, names in by_variant.items():
        assert names == listed, f"the {variant} styles are not the manifest's"


def test_each_shipped_style_has_the_manifests_own_settings(capsys, monkeypatch, tmp_path):
    """The stroke scales, own marks, ink, colour and dots chosen per painting (paintings.json)
    are in every shipped file, and `livestyle styles` shows the ones that are not the
    default."""
    from livestyle.cli import main

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))  # the shipped styles only
    monkeypatch.delenv("LIVESTYLE_STYLES_DIR", raising=False)
    paintings = read_manifest(PACKAGE_WEIGHTS_DIR / "paintings.json", check_files=False)
    chosen = {p.name: p for p in paintings}
    assert any(p.stroke_scale != 1 for p in paintings)
    assert any(p.marks_for("lite") for p in paintings)
    assert any(p.ink_for("lite") for p in paintings)
    assert any(p.colour_for("lite") for p in paintings)
    assert any(p.dots_for("lite") for p in paintings)
    for info in STYLES:
        wanted = chosen[info.name]
        assert info.stroke_scale == wanted.stroke_scale_for(info.variant), info.name
        assert info.marks == wanted.marks_for(info.variant), f"{info.name}.{info.variant}"
        assert info.ink == wanted.ink_for(info.variant), f"{info.name}.{info.variant}"
        assert info.colour == wanted.colour_for(info.variant), f"{info.name}.{info.variant}"
        assert info.dots == wanted.dots_for(info.variant), f"{info.name}.{info.variant}"
    assert main(["styles", "--variant", "lite"]) == 0
    listing = capsys.readouterr().out
    for painting in paintings:
        line = next(row for row in listing.splitlines() if f" {painting.name} (" in row)
        scale, marks = painting.stroke_scale_for("lite"), painting.marks_for("lite")
        assert (f"strokes {scale:g}x" in line) == (scale != 1), line
        assert (f"marks +{marks:.0%}" in line) == (marks != 0), line
        ink = painting.ink_for("lite")
        assert (f"ink {ink:.0%}" in line) == (ink != 0), line
        colour = painting.colour_for("lite")
        assert (f"colour +{colour:.0%}" in line) == (colour != 0), line
        dots = painting.dots_for("lite")
        assert (f"dots {dots:.0%}" in line) == (dots != 0), line


@pytest.mark.parametrize("info", STYLES, ids=[f"{s.name}.{s.variant}" for s in STYLES])
def test_style_has_complete_metadata(info):
    for key in REQUIRED_METADATA:
        assert getattr(info, key), f"{info.name}: metadata '{key}' is empty"
    for key in ("steps", "loss_net", "variant", "painting", "style_weight"):
        assert key in info.training, f"{info.name}: training settings lack '{key}'"


def test_styles_differ_from_input_and_from_each_other():
    frame = DemoSource(160, 120).read()
    styles = load_styles(STYLES)
    stylizer = Stylizer(styles, "cpu")
    outputs = [
        stylizer.stylize(frame, index=i).image.astype(np.float32) for i in range(len(styles))
    ]
    for (_, info), out in zip(styles, outputs, strict=True):
        assert np.abs(out - frame).mean() > 10, f"{info.name} barely changes the picture"
    for i in range(len(outputs)):
        for j in range(i + 1, len(outputs)):
            if styles[i][1].name == styles[j][1].name:
                continue  # the same painting in two variants
            diff = np.abs(outputs[i] - outputs[j]).mean()
            assert diff > 5, f"{styles[i][1].name} and {styles[j][1].name} look alike"
