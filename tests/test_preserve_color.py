"""Original colours (C, --preserve-color): the painting's lightness with the frame's own colour.

Measured in Oklab, written out here from Ottosson's definition (not the app's code), on a
synthetic frame stylized by random-weight styles: the output's chroma (a, b) must follow
the frame's and its lightness (L) the stylized picture's, in every engine, under the
strength blend, toggled as data in the CUDA graphs, from the window's C key and in
`livestyle stylize`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PyQt6.QtCore import Qt

from livestyle.cli import main
from livestyle.discovery import load_styles, scan_styles
from livestyle.engines.cuda import CudaFrameRunner
from livestyle.engines.onnx import onnxruntime_available
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.ui.window import LiveWindow
from livestyle.video.demo import DemoSource

from .test_fast_paths import styles, torch_path

CPU = torch.device("cpu")
WAIT_MS = 30_000  # a deadline for a condition: generous, a busy CPU is slow
# Ottosson's Oklab matrices: linear sRGB -> LMS, cube-rooted LMS -> Lab, and their inverses.
RGB_TO_LMS = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
LMS_TO_LAB = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
LAB_TO_LMS = np.array(
    [
        [1.0, 0.3963377774, 0.2158037573],
        [1.0, -0.1055613458, -0.0638541728],
        [1.0, -0.0894841775, -1.2914855480],
    ]
)
LMS_TO_RGB = np.array(
    [
        [4.0767416621, -3.3077115913, 0.2309699292],
        [-1.2684380046, 2.6097574011, -0.3413193965],
        [-0.0041960771, -0.7034186147, 1.7076904801],
    ]
)


def oklab(bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (H, W, 3) Oklab L, a, b."""
    srgb = bgr[..., ::-1].astype(np.float64) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    return np.cbrt(linear @ RGB_TO_LMS.T) @ LMS_TO_LAB.T


def on_screen(lab: np.ndarray) -> np.ndarray:
    """Which Oklab colours an sRGB screen can show."""
    linear = ((lab @ LAB_TO_LMS.T) ** 3) @ LMS_TO_RGB.T
    return np.all((linear >= -1e-3) & (linear <= 1 + 1e-3), axis=-1)


def hue_error(lab: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Degrees between the hues (angles in the a, b plane)."""
    turn = np.arctan2(lab[..., 2], lab[..., 1]) - np.arctan2(other[..., 2], other[..., 1])
    return np.degrees(np.abs(np.angle(np.exp(1j * turn))))


def colour_frame(height: int = 48, width: int = 64) -> np.ndarray:
    """Smooth hues across, lightness down, a few soft shapes: colours a painting would change."""
    ys, xs = np.mgrid[0:height, 0:width]
    hue = (xs / width * 180).astype(np.uint8)
    value = (60 + 150 * ys / height).astype(np.uint8)
    frame = cv2.cvtColor(np.stack([hue, np.full_like(hue, 150), value], -1), cv2.COLOR_HSV2BGR)
    cv2.circle(frame, (width // 3, height // 2), height // 5, (40, 160, 230), -1)
    cv2.rectangle(frame, (width // 2, 5), (width - 8, height // 3), (200, 90, 60), -1)
    return cv2.GaussianBlur(frame, (3, 3), 0)


@pytest.fixture
def eager(styles_dir: Path) -> Stylizer:
    loaded = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    return Stylizer(loaded, CPU, "fp32", backend="torch")


def painted_and_kept(stylizer: Stylizer, frame: np.ndarray, index: int) -> tuple:
    """Oklab of the frame, of its plain stylized picture, and of it with its own colours."""
    stylizer.preserve_color = False
    painted = stylizer.stylize(frame, index)
    stylizer.preserve_color = True
    kept = stylizer.stylize(frame, index)
    assert (painted.preserve_color, kept.preserve_color) == (False, True)  # as each frame read it
    return oklab(frame), oklab(painted.image), oklab(kept.image)


def chroma_moved(lab: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """How far each pixel's chroma is from the frame's: distance in the a, b plane."""
    return np.hypot(*np.moveaxis(lab[..., 1:] - frame[..., 1:], -1, 0))


def showable(frame: np.ndarray, painted: np.ndarray) -> np.ndarray:
    """Where the screen can show the frame's colour at the painting's lightness, past 0.25
    (below, one grey level is a large step in a and b)."""
    exists = on_screen(np.concatenate([painted[..., :1], frame[..., 1:]], -1))
    return exists & (painted[..., 0] > 0.25)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_output_has_the_frames_chroma_and_the_stylized_lightness(eager: Stylizer, index) -> None:
    frame, painted, kept = painted_and_kept(eager, colour_frame(), index)
    # Lightness: the painting's everywhere (the frame's differs a lot).
    assert np.median(np.abs(kept[..., 0] - painted[..., 0])) < 0.003
    assert np.median(np.abs(frame[..., 0] - painted[..., 0])) > 0.05
    # Chroma: the frame's wherever the screen can show it at the painting's lightness.
    region = showable(frame, painted)
    assert region.mean() > 0.15  # enough pixels to judge (random styles can be dark)
    assert np.percentile(chroma_moved(kept, frame)[region], 95) < 0.005
    assert np.median(chroma_moved(painted, frame)[region]) > 0.05
    # Where it cannot, the colour gives up chroma but keeps its hue.
    elsewhere = ~region & (painted[..., 0] > 0.25)
    assert elsewhere.mean() > 0.05
    assert np.median(hue_error(kept, frame)[elsewhere]) < 5.0
    assert np.median(hue_error(painted, frame)[elsewhere]) > 30.0


def test_a_smaller_network_keeps_the_colours_at_its_size(eager: Stylizer) -> None:
    """Live, the network runs smaller than the frame, and the colours are kept at its size."""
    eager.network_size = NetworkSize(None, 0.5)
    frame, painted, kept = painted_and_kept(eager, colour_frame(), 1)
    assert np.median(np.abs(kept[..., 0] - painted[..., 0])) < 0.03
    region = showable(frame, painted)
    assert np.median(chroma_moved(kept, frame)[region]) < 0.01
    assert np.median(chroma_moved(painted, frame)[region]) > 0.1


def test_grey_frame_stays_grey(eager: Stylizer) -> None:
    frame = np.repeat(colour_frame()[..., :1], 3, axis=2)
    eager.preserve_color = True
    kept = eager.stylize(frame, 1).image.astype(int)
    assert np.abs(kept - kept[..., :1]).max() <= 1  # no colour comes from the painting
    assert np.abs(kept - frame).mean() > 10  # but its light and dark do


@pytest.mark.skipif(not onnxruntime_available(), reason="onnx/onnxruntime not installed")
@pytest.mark.parametrize("infer_size", [None, 40])
def test_onnx_and_eager_keep_the_same_colours(styles_dir: Path, infer_size) -> None:
    loaded = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    fast = Stylizer(loaded, CPU, "fp32", network_size=NetworkSize(infer_size), preserve_color=True)
    plain = Stylizer(
        loaded,
        CPU,
        "fp32",
        network_size=NetworkSize(infer_size),
        preserve_color=True,
        backend="torch",
    )
    assert fast.backend == "onnxruntime"
    frame = colour_frame()
    for index in range(len(loaded)):
        a = fast.stylize(frame, index).image.astype(int)
        b = plain.stylize(frame, index).image.astype(int)
        assert np.abs(a - b).max() <= 1 and np.mean(a != b) < 0.01


@pytest.mark.parametrize("strength", [0.0, 0.3, 0.7])
def test_strength_blends_the_kept_colours_over_the_frame(eager: Stylizer, strength) -> None:
    frame = colour_frame()
    eager.preserve_color = True
    full = eager.stylize(frame, 2).image.astype(float)
    eager.strength = strength
    blended = eager.stylize(frame, 2).image.astype(float)
    expected = strength * full + (1 - strength) * frame
    # `full` was rounded once already: half a level, then the blend rounds again.
    assert np.abs(blended - expected).max() <= 1.0


def test_graph_runner_toggles_colours_as_data_without_recapturing() -> None:
    """The CUDA frame graph's logic on the CPU (what LIVESTYLE_CUDA_DRY_RUN runs): the colour
    choice is a device scalar the graph reads, so toggling it captures nothing new."""
    loaded = styles(count=2)
    plain = torch_path(Stylizer(loaded, CPU, "fp32", backend="torch"))
    models = [style.model for style in plain.styles]
    runner = CudaFrameRunner(models, CPU, torch.float32, channels_last=False)
    frame = colour_frame(40, 52)
    plain.network_size = NetworkSize(None, 0.75)  # the network smaller than the frame, as live
    net_shape = plain.network_shape(40, 52)
    for keep in (False, True, True, False, True):
        for style, strength in ((0, 1.0), (1, 0.6)):
            plain.preserve_color, plain.strength = keep, strength
            expected = plain.stylize(frame, style).image
            got = runner.stylize(frame, style, net_shape, strength, keep, plain.guided)
            np.testing.assert_array_equal(got, expected, err_msg=f"{keep} {style} {strength}")
    assert runner.captures == 1


def test_c_key_toggles_original_colours_in_the_window(qtbot, stylizer: Stylizer, tmp_path) -> None:
    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer, out_dir=tmp_path)
    window = LiveWindow(LiveSession(pipeline, out_dir=tmp_path), size=(320, 240))
    qtbot.addWidget(window)
    window.start()
    try:
        assert "colours" not in window.overlay_text()
        qtbot.keyClick(window, Qt.Key.Key_C)
        assert stylizer.preserve_color and "colours: original" in window.overlay_text()

        def shows_own_colours() -> bool:
            shown = window.shown
            if shown is None:
                return False
            frame, kept = oklab(shown.original), oklab(shown.stylized)
            lit = (kept[..., 0] > 0.25) & (frame[..., 0] > 0.25)
            return lit.mean() > 0.2 and np.median(chroma_moved(kept, frame)[lit]) < 0.02

        qtbot.waitUntil(shows_own_colours, timeout=WAIT_MS)
        qtbot.keyClick(window, Qt.Key.Key_C)
        assert not stylizer.preserve_color and "colours" not in window.overlay_text()
    finally:
        window.shutdown()


def test_stylize_command_writes_the_pictures_own_colours(styles_env, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), colour_frame())
    for name, options in (("painted", []), ("kept", ["--preserve-color"])):
        out = tmp_path / f"{name}.png"
        assert main(["stylize", str(photo), "--style", "beta", *options, "-o", str(out)]) == 0
    frame, painted, kept = (
        oklab(cv2.imread(str(tmp_path / n))) for n in ("photo.png", "painted.png", "kept.png")
    )
    assert np.median(np.abs(kept[..., 0] - painted[..., 0])) < 0.003
    region = showable(frame, painted)
    assert np.percentile(chroma_moved(kept, frame)[region], 95) < 0.005
    assert np.median(chroma_moved(painted, frame)[region]) > 0.05
