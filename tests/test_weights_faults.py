"""Bad style files: skipped with one warning line each, never unpickled, and a folder left
with no usable style ends the command in one line."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from livestyle.cli import main
from livestyle.discovery import load_styles, scan_styles
from livestyle.model import VARIANTS

from .media import rewrite_style, write_styles

EVIL_PICKLE = """
import pickle, sys

class Evil:
    def __reduce__(self):  # unpickling this calls open(marker, "w")
        return (open, ({marker!r}, "w"))

with open(sys.argv[1], "wb") as f:
    pickle.dump({{"weight": Evil()}}, f)
"""


def test_bad_style_files_are_skipped_with_a_warning_and_never_unpickled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = write_styles(tmp_path / "styles", names=("good", "cut"))
    marker = tmp_path / "pwned"
    evil = folder / "evil.safetensors"
    script = EVIL_PICKLE.format(marker=str(marker))
    subprocess.run([sys.executable, "-c", script, str(evil)], check=True)
    (folder / "evil.pt").write_bytes(evil.read_bytes())  # not a style suffix: never looked at
    cut = folder / "cut.lite.safetensors"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    (folder / "text.safetensors").write_text("hello")
    # Standard-network tensors in a file whose metadata says lite.
    standard = write_styles(tmp_path / "std", names=("wrong",), variant="standard")
    rewrite_style(
        folder / "wrong.lite.safetensors",
        standard / "wrong.standard.safetensors",
        lambda config: config.update(VARIANTS["lite"].to_dict()),
    )
    caplog.set_level(logging.WARNING)
    loaded = load_styles(scan_styles([folder], prefer_variant="lite"))
    assert [info.name for _, info in loaded] == ["good"]
    assert not marker.exists()
    warnings = [r.getMessage() for r in caplog.records]
    assert all("\n" not in w for w in warnings)
    for name in ("evil", "cut.lite", "text", "wrong.lite"):
        assert sum(f"{name}.safetensors" in w for w in warnings) == 1, (name, warnings)
    assert not any("evil.pt" in w for w in warnings)
    # The payload is real: unpickling it the unsafe way does create the marker.
    with open(evil, "rb") as f:
        pickle.load(f)
    assert marker.exists()


def test_unknown_config_keys_skip_the_style_and_say_why(
    styles_env: dict[str, str], tmp_path: Path, caplog, capsys, monkeypatch
) -> None:
    folder = write_styles(tmp_path / "odd", names=("odd",))
    source = folder / "odd.lite.safetensors"
    path = rewrite_style(
        folder / "odd2.lite.safetensors", source, lambda config: config.update(dropout=0.5)
    )
    source.unlink()
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(folder))
    monkeypatch.setattr("livestyle.discovery.PACKAGE_WEIGHTS_DIR", tmp_path / "none")
    assert main(["live", "--headless", "--source", "demo", "--max-frames", "1"]) == 2
    assert "unknown network config keys: dropout" in caplog.text and str(path) in caplog.text
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no styles installed" in err[0]
