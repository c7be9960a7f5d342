"""The wheel carries the shipped styles, and an installed (non-editable) copy finds them.

`pip install .` once gave an app with no styles: the .safetensors lived outside the package.
This builds the wheel offline, looks inside it, then runs the unpacked wheel away from the
checkout so nothing can fall back on the repository's files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, discover_style_files
from livestyle.weights import read_style_infos

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.name for p in discover_style_files([PACKAGE_WEIGHTS_DIR]))
# A multi-style file holds many styles: `livestyle styles` lists each name once.
SHIPPED_STYLES = len(
    {i.name for p in discover_style_files([PACKAGE_WEIGHTS_DIR]) for i in read_style_infos(p)}
)


def _setuptools_major() -> int:
    try:
        return int(version("setuptools").split(".")[0])
    except Exception:  # not installed, or an odd version string
        return 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHIPPED, reason="no shipped styles in this checkout"),
    # pyproject.toml needs setuptools >= 77 (SPDX licence string); without build isolation
    # (no network in tests) the interpreter's own setuptools builds the wheel.
    pytest.mark.skipif(_setuptools_major() < 77, reason="setuptools >= 77 not installed"),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    command += ["--no-index", "-q", "-w", str(out), str(REPO)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (path,) = out.glob("livestyle-*.whl")
    return path


def test_wheel_contains_every_shipped_style(wheel: Path) -> None:
    styles = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".safetensors")]
    assert sorted(Path(n).name for n in styles) == SHIPPED
    assert all(n.startswith("livestyle/shipped_styles/") for n in styles)


def test_unpacked_wheel_lists_the_shipped_styles(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVESTYLE")}
    env |= {"PYTHONPATH": str(site), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    done = subprocess.run(
        [sys.executable, "-m", "livestyle", "styles"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == SHIPPED_STYLES, done.stdout
    for line in lines:  # each style is read from the unpacked wheel, not the checkout
        assert str(site / "livestyle" / "shipped_styles") in line
