"""Bounded memory: a picture whose work would not fit is stylized at a size that fits (one
line says so) or refused in one line, before anything large is made; never a process the
kernel kills without a word (the tester's 8000x8000 PNG took all 24 GB)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from livestyle import memory
from livestyle.core.errors import TooLargeError
from livestyle.stylizer import Stylizer
from livestyle.video.files import read_image

# The address space a `livestyle stylize` may take in the test below: its libraries take
# about 1-1.5 GB of it; an 8000x8000 picture at full size would need about 30 GB more.
ADDRESS_SPACE = 4 << 30


def large_photo(path: Path, side: int) -> Path:
    image = np.zeros((side, side, 3), np.uint8)
    image[:] = np.linspace(0, 255, side, dtype=np.uint8)[None, :, None]
    image[::50] = 255  # compresses well: a few MB on disk, 192 MB decoded
    cv2.imwrite(str(path), image)
    return path


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux's")
def test_a_huge_photo_is_stylized_at_a_size_that_fits_under_a_memory_limit(
    styles_env: dict[str, str], tmp_path: Path
) -> None:
    photo = large_photo(tmp_path / "huge.png", 8000)
    out = tmp_path / "out.png"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    done = subprocess.run(
        [sys.executable, "-m", "livestyle", "stylize", str(photo), "--style", "alpha"]
        + ["-o", str(out)],
        env=styles_env,
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("livestyle:")]
    assert len(said) == 1 and "8000x8000" in said[0] and "scaling the result up" in said[0]
    result = cv2.imread(str(out))
    assert result is not None and result.shape == (8000, 8000, 3)


def test_a_picture_that_fits_nowhere_is_refused_before_the_work(
    stylizer: Stylizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "usable_bytes", lambda: 4 << 20)
    ran = []
    monkeypatch.setattr(stylizer, "_run", lambda *args: ran.append(1))
    with pytest.raises(TooLargeError, match=r"a 1200x1000 picture needs about .* GB"):
        stylizer.stylize(np.zeros((1000, 1200, 3), np.uint8))
    assert not ran  # refused before the engine was asked for anything


def test_a_picture_too_large_is_stylized_smaller_and_scaled_up_once_said(
    stylizer: Stylizer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    frame = np.random.default_rng(0).integers(0, 256, (900, 1200, 3), np.uint8)
    needed = memory.work_bytes(900 * 1200, 900 * 1200, stylizer.active.config.widths[0])
    monkeypatch.setattr(memory, "usable_bytes", lambda: needed // 4)
    sizes = []
    real_run = stylizer._run
    monkeypatch.setattr(stylizer, "_run", lambda c, f: sizes.append(f.shape) or real_run(c, f))
    first = stylizer.stylize(frame).image
    stylizer.stylize(frame)
    assert first.shape == frame.shape  # the size the user gave, scaled back up
    (height, width, _), _again = sizes
    assert height * width <= 900 * 1200 / 4 and width / height == pytest.approx(4 / 3, rel=0.01)
    warnings = [r.getMessage() for r in caplog.records if "scaling the result up" in r.message]
    assert len(warnings) == 1  # once per size, not once per frame


def test_an_image_too_large_to_decode_is_refused_from_its_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = large_photo(tmp_path / "big.png", 1000)
    monkeypatch.setattr(memory, "usable_bytes", lambda: 1 << 20)
    decoded = []
    monkeypatch.setattr(cv2, "imdecode", lambda *args: decoded.append(1))
    with pytest.raises(TooLargeError, match="a 1000x1000 image needs .* GB to decode"):
        read_image(photo)
    assert not decoded


def test_a_fitting_picture_runs_at_its_own_size_without_looking_at_memory(
    stylizer: Stylizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live frames never pay for reading what is free."""

    def looked() -> int:
        raise AssertionError("memory was looked at for a small frame")

    monkeypatch.setattr(memory, "usable_bytes", looked)
    frame = np.zeros((480, 640, 3), np.uint8)
    assert stylizer.stylize(frame).image.shape == frame.shape


def test_the_memory_probes_read_this_machine() -> None:
    available = memory.available_bytes()
    if sys.platform == "linux":
        assert available is not None and available > 0
    limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    if limit == resource.RLIM_INFINITY:
        assert memory._address_space_room() is None
