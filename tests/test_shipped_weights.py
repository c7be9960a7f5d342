"""Every shipped style (livestyle/shipped_styles/) loads, has full metadata, really stylizes."""

import numpy as np
import pytest

from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import (
    PACKAGE_WEIGHTS_DIR,
    REQUIRED_METADATA,
    discover_style_files,
    load_style,
)

FILES = discover_style_files([PACKAGE_WEIGHTS_DIR])
pytestmark = pytest.mark.skipif(not FILES, reason="no shipped styles in livestyle/shipped_styles/")


def test_weights_folder_is_compact():
    total = sum(p.stat().st_size for p in PACKAGE_WEIGHTS_DIR.rglob("*") if p.is_file())
    assert total < 40 * 1024 * 1024


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_style_loads_with_complete_metadata(path):
    _, info = load_style(path)
    for key in REQUIRED_METADATA:
        assert getattr(info, key), f"{path.name}: metadata '{key}' is empty"
    for key in ("steps", "loss_net", "variant"):
        assert key in info.training, f"{path.name}: training settings lack '{key}'"


def test_styles_differ_from_input_and_from_each_other():
    frame = DemoSource(160, 120).read()
    styles = [load_style(p) for p in FILES]
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
