import numpy as np
import pytest
import torch

from livestyle.engines.device import pick_dtype, preferred_variant
from livestyle.engines.frames import bgr_to_input, output_to_bgr
from livestyle.sizing import NetworkSize


def test_preprocessing_matches_numpy_reference():
    frame = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    x = bgr_to_input(torch.from_numpy(frame), torch.float32)
    reference = frame[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
    np.testing.assert_allclose(x.numpy(), reference, rtol=0, atol=1e-7)


def test_postprocessing_matches_numpy_reference():
    rgb = np.random.default_rng(1).uniform(-0.2, 1.2, (1, 3, 5, 7)).astype(np.float32)
    out = output_to_bgr(torch.from_numpy(rgb)).numpy()
    reference = np.floor(np.clip(rgb[0], 0, 1) * 255 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(out, reference.transpose(1, 2, 0)[:, :, ::-1])


def test_round_trip_is_lossless():
    frame = np.random.default_rng(2).integers(0, 256, (9, 11, 3), dtype=np.uint8)
    back = output_to_bgr(bgr_to_input(torch.from_numpy(frame), torch.float32)).numpy()
    np.testing.assert_array_equal(back, frame)


def test_network_size_scales_long_side():
    assert NetworkSize(320, 1.0).shape(480, 640) == (240, 320)
    assert NetworkSize(None, 0.5).shape(480, 640) == (240, 320)
    assert NetworkSize(2000, 1.0).shape(480, 640) == (480, 640)  # never upscales


def test_device_defaults():
    cpu = torch.device("cpu")
    assert pick_dtype(cpu) == torch.float32 and pick_dtype(torch.device("cuda")) == torch.float16
    assert (
        preferred_variant(cpu) == "lite" and preferred_variant(torch.device("cuda")) == "standard"
    )


def test_stylize_keeps_size_and_styles_differ(stylizer):
    frame = np.random.default_rng(3).integers(0, 256, (47, 63, 3), dtype=np.uint8)
    outputs = []
    for i in range(len(stylizer.styles)):
        stylizer.select(i)
        out = stylizer.stylize(frame).image
        assert out.shape == frame.shape and out.dtype == np.uint8
        outputs.append(out.astype(int))
    assert np.abs(outputs[0] - outputs[1]).mean() > 1.0


def test_strength_blends_with_original(stylizer):
    frame = np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    stylizer.strength = 0.0
    np.testing.assert_array_equal(stylizer.stylize(frame).image, frame)
    stylizer.strength = 1.0
    full = stylizer.stylize(frame).image.astype(float)
    stylizer.strength = 0.5
    half = stylizer.stylize(frame).image.astype(float)
    np.testing.assert_allclose(half, (full + frame) / 2, atol=1.01)
    stylizer.strength = 7
    assert stylizer.strength == 1.0


def test_infer_size_runs_smaller_and_returns_frame_size(stylizer, monkeypatch):
    frame = np.random.default_rng(5).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    seen = []
    run = stylizer.engine.stylize  # whichever engine the device got (eager or ONNX Runtime)

    def spy(image, style, net_shape, strength, **options):
        seen.append(tuple(net_shape))
        return run(image, style, net_shape, strength, **options)

    monkeypatch.setattr(stylizer.engine, "stylize", spy)
    stylizer.network_size = NetworkSize(64)
    out = stylizer.stylize(frame).image
    assert out.shape == frame.shape and seen == [(48, 64)]


def test_style_selection_wraps_and_finds(stylizer):
    stylizer.select(0)
    stylizer.step(-1)
    assert stylizer.index == len(stylizer.styles) - 1
    assert stylizer.find("beta") == 1
    with pytest.raises(KeyError):
        stylizer.find("nope")


def test_an_engines_out_of_memory_shrinks_the_network_on_the_inference_thread(
    stylizer, monkeypatch
):
    """The whole chain: the engine's device error becomes OutOfMemory (engines.base), the
    inference thread frees memory and lowers the Stylizer's one size, and goes on."""
    from livestyle.live.inference import InferenceThread, Stats
    from livestyle.live.slot import Frame, LatestSlot
    from livestyle.sizing import OOM_SHRINK

    image = np.random.default_rng(6).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    stylizer.network_size = NetworkSize(64)
    real, calls = stylizer.engine._stylize, []

    def out_of_memory_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
        return real(*args, **kwargs)

    monkeypatch.setattr(stylizer.engine, "_stylize", out_of_memory_once)
    shown, said = [], []
    thread = InferenceThread(LatestSlot(), stylizer, [shown.append], Stats(), said.append)
    thread._process(Frame(image, 0, 0.0, 0.0))
    assert shown == [] and stylizer.network_size == NetworkSize(None, 0.5 * OOM_SHRINK)
    assert len(said) == 1 and "inference scale lowered to" in said[0]
    thread._process(Frame(image, 1, 1 / 30, 0.0))
    assert len(shown) == 1 and shown[0].stylized.shape == image.shape
    assert stylizer.network_shape(96, 128) == (36, 48)
