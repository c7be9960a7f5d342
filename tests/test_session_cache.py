"""The ONNX Runtime models kept between runs (engines/session_cache.py): a second start
reads the model back instead of writing, quantizing and checking it again, and anything
that changes the model makes another file; a damaged, missing or unwritable cache only
costs the time it would have saved."""

from __future__ import annotations

import os

import pytest
import torch

from livestyle.engines import onnx as onnx_engine
from livestyle.engines import quantize, session_cache
from livestyle.model import VARIANTS
from tests.test_quantize import style_list, trained_looking

pytestmark = pytest.mark.skipif(
    not onnx_engine.onnxruntime_available(), reason="onnx/onnxruntime not installed"
)


def models(seed: int = 0) -> list:
    return [m for m, _ in style_list(trained_looking(VARIANTS["lite"], styles=2, seed=seed))]


def picture() -> torch.Tensor:
    return torch.from_numpy(quantize.pink_noise(5, (48, 64)))


def refuse(*_args, **_kwargs):
    raise AssertionError("made again, where the kept model should have been read")


def test_a_second_start_reads_the_model_back(session_cache_folder, monkeypatch) -> None:
    first = onnx_engine.OnnxEngine(models(), threads=1, int8=True)
    kept = list(session_cache_folder.glob("*.onnx"))
    assert [p.name.endswith(".int8.onnx") for p in kept] == [True]
    monkeypatch.setattr(onnx_engine, "graph_model", refuse)
    monkeypatch.setattr(quantize, "quantized", refuse)
    second = onnx_engine.OnnxEngine(models(), threads=1, int8=True)
    assert second.name == "onnxruntime int8"
    for style in range(2):
        a, b = first.network(style)(picture()), second.network(style)(picture())
        assert torch.equal(a, b)


def test_auto_keeps_its_decision(session_cache_folder, monkeypatch) -> None:
    """ "auto" keeps the precision its check chose: a float32 model read back runs float32."""
    monkeypatch.setattr(quantize, "MIN_PSNR_DB", float("inf"))  # int8 never passes
    assert onnx_engine.OnnxEngine(models(), threads=1, int8=None).name == "onnxruntime"
    assert [p.name[-10:] for p in session_cache_folder.glob("*.onnx")] == [".fp32.onnx"]
    monkeypatch.setattr(onnx_engine, "graph_model", refuse)
    assert onnx_engine.OnnxEngine(models(), threads=1, int8=None).name == "onnxruntime"


def test_other_weights_or_precision_make_another_model(session_cache_folder) -> None:
    onnx_engine.OnnxEngine(models(seed=0), threads=1, int8=True)
    changed = models(seed=0)
    with torch.no_grad():  # one style's norm shift: the calibration sees every style
        changed[1].up[0].conv.norm.bias.add_(0.01)
    onnx_engine.OnnxEngine(changed, threads=1, int8=True)
    onnx_engine.OnnxEngine(models(seed=0), threads=1, int8=False)
    assert len(list(session_cache_folder.glob("*.onnx"))) == 3


def test_int8_is_made_again_on_another_cpu(monkeypatch) -> None:
    """int8 is quantized for this CPU (7-bit weights where its int8 sums saturate) and "auto"
    weighs its speed here, so a cache in a home folder that several machines share keeps
    one per CPU; float32 is the same model everywhere."""
    graph, feeds = "graph", [{"w": torch.ones(2).numpy()}]
    here = {p: session_cache.session_key(graph, feeds, p) for p in (None, True, False)}
    monkeypatch.setattr(session_cache, "cpu_identity", lambda: "another CPU\nflags: avx2")
    there = {p: session_cache.session_key(graph, feeds, p) for p in (None, True, False)}
    assert here[None] != there[None] and here[True] != there[True]
    assert here[False] == there[False]
    assert len(set(here.values())) == 3
    assert session_cache.cpu_identity()  # this machine names something


def test_a_damaged_file_is_made_again(session_cache_folder) -> None:
    made = onnx_engine.OnnxEngine(models(), threads=1, int8=False)
    (kept,) = session_cache_folder.glob("*.onnx")
    kept.write_bytes(b"not a model")
    again = onnx_engine.OnnxEngine(models(), threads=1, int8=False)
    assert torch.equal(made.network(0)(picture()), again.network(0)(picture()))
    assert kept.stat().st_size > 1000  # written again, whole


def test_a_cache_turned_off_or_unwritable_is_passed_by(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LIVESTYLE_CACHE_DIR", "")
    onnx_engine.OnnxEngine(models(), threads=1, int8=False)
    assert not (tmp_path / "xdg").exists()
    blocked = tmp_path / "a file"
    blocked.write_text("")
    monkeypatch.setenv("LIVESTYLE_CACHE_DIR", str(blocked / "sessions"))
    engine = onnx_engine.OnnxEngine(models(), threads=1, int8=False)
    assert engine.network(0)(picture()).shape == (1, 3, 48, 64)


def test_the_default_folder_follows_xdg(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("LIVESTYLE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert session_cache.cache_dir() == tmp_path / "livestyle" / "sessions"


def test_only_the_newest_files_are_kept(session_cache_folder, monkeypatch) -> None:
    monkeypatch.setattr(session_cache, "KEEP", 2)
    for i, key in enumerate(("a" * 32, "b" * 32, "c" * 32)):
        session_cache.store(key, bytes([i]) * 10, int8=bool(i % 2))
        for path in session_cache_folder.glob("*.onnx"):  # older by a second each round
            stamp = path.stat().st_mtime - 1
            os.utime(path, (stamp, stamp))
    names = sorted(p.name for p in session_cache_folder.glob("*.onnx"))
    assert names == ["b" * 32 + ".int8.onnx", "c" * 32 + ".fp32.onnx"]
    assert session_cache.load("c" * 32) == (bytes([2]) * 10, False)
    assert session_cache.load("a" * 32) is None
