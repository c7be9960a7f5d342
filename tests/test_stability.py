import cv2
import numpy as np
import pytest

from livestyle.cli import main
from livestyle.stability import measure_flicker

from .media import write_video


def moving_scene(count=6, shift=2, size=(96, 72)):
    """A textured picture panning right by `shift` px a frame: flow explains every change."""
    width, height = size
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height // 4, (width + shift * count) // 4, 3), np.uint8)
    big = np.kron(base, np.ones((4, 4, 1), np.uint8))
    big = cv2.GaussianBlur(big, (5, 5), 1.5)
    return [big[:height, i * shift : i * shift + width].copy() for i in range(count)]


def test_static_clip_has_near_zero_flicker():
    frame = moving_scene(1)[0]
    frames = [frame.copy() for _ in range(5)]
    result = measure_flicker(frames, frames)
    assert result.stylized < 0.5 and result.input < 0.5
    assert result.reliable_fraction > 0.9


def test_flow_explains_motion():
    frames = moving_scene()
    result = measure_flicker(frames, frames)
    # Without warping the frames differ a lot; warped by the flow they nearly match.
    raw = np.mean(
        [np.abs(a.astype(float) - b).mean() for a, b in zip(frames[:-1], frames[1:], strict=True)]
    )
    assert result.input < raw / 3


def test_injected_flicker_grows_the_measure():
    frames = moving_scene()
    rng = np.random.default_rng(1)
    measures = []
    for amplitude in (0, 10, 30):
        flickered = [
            np.clip(f.astype(int) + rng.integers(-amplitude, amplitude + 1), 0, 255).astype(
                np.uint8
            )
            for f in frames
        ]
        measures.append(measure_flicker(frames, flickered).stylized)
    assert measures[0] < measures[1] < measures[2]
    assert measures[2] > 5 * max(measures[0], 0.5)


def noisy_flat_scene(count=6, size=(96, 72)):
    """A flat grey wall with a camera's noise: nothing moves, but DIS guesses flows there."""
    width, height = size
    rng = np.random.default_rng(2)
    noise = [rng.normal(0, 2, (height, width, 1)).repeat(3, axis=2) for _ in range(count)]
    return [np.clip(120 + n, 0, 255).astype(np.uint8) for n in noise]


def test_texture_standing_still_over_a_still_wall_is_not_charged_for_the_flows_guesses():
    """Over a flat noisy wall the flow's guesses move the previous picture by pixels; where
    no motion explains the wall as well, the measure compares unwarped."""
    frames = noisy_flat_scene()
    texture = np.random.default_rng(3).integers(0, 256, frames[0].shape, np.uint8)
    outputs = [texture.copy() for _ in frames]
    charged = measure_flicker(frames, outputs).stylized
    assert charged < 0.5 * measure_flicker(frames, outputs, flow_everywhere=True).stylized


def test_texture_standing_still_while_the_scene_moves_is_charged():
    """Where the scene moves, the flow explains it better than no motion: a picture that stays
    put over it is charged as much as when every pixel is warped by the flow."""
    frames = moving_scene()
    outputs = [frames[0].copy() for _ in frames]
    charged = measure_flicker(frames, outputs).stylized
    warped_everywhere = measure_flicker(frames, outputs, flow_everywhere=True).stylized
    assert charged > 10 and charged > 0.9 * warped_everywhere


def test_shimmer_over_a_still_scene_is_charged():
    frame = moving_scene(1)[0]
    frames = [frame.copy() for _ in range(5)]
    rng = np.random.default_rng(4)
    shimmer = [np.clip(f + rng.normal(0, 10, f.shape), 0, 255).astype(np.uint8) for f in frames]
    assert measure_flicker(frames, shimmer).stylized > 8


def test_needs_two_frames():
    with pytest.raises(ValueError):
        measure_flicker(moving_scene(1), moving_scene(1))


def test_command_prints_a_table(styles_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(styles_dir))
    clip = write_video(tmp_path / "clip.mp4", frames=6, fps=10.0, size=(64, 48))
    out = tmp_path / "r.json"
    code = main(["eval-stability", "--video", str(clip), "--style", "all", "--json", str(out)])
    assert code == 0
    table = capsys.readouterr().out
    assert "| alpha |" in table and "| gamma |" in table
    assert '"alpha"' in out.read_text()


def test_command_errors(styles_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(styles_dir))
    assert main(["eval-stability", "--video", str(tmp_path / "none.mp4"), "--style", "x"]) == 2
    assert "none.mp4" in capsys.readouterr().err
    clip = write_video(tmp_path / "clip.mp4", frames=3, fps=10.0, size=(32, 32))
    assert main(["eval-stability", "--video", str(clip), "--style", "nope"]) == 2
    assert "unknown style 'nope'" in capsys.readouterr().err
