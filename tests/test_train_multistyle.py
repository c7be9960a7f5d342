"""`livestyle train` with several paintings: one multi-style network, and adding a painting
to a trained network by training only its norm rows."""

# The photo and painting fixtures come from test_train; pytest passes them by argument name.
# ruff: noqa: F811

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from livestyle import cli
from livestyle.commands.train import config_from_args
from livestyle.core.errors import LivestyleError
from livestyle.model import VARIANTS, NetConfig, TransformerNet, norm_parameters
from livestyle.train.config import TrainConfig
from livestyle.train.distributed import Dist
from livestyle.train.paintings import Painting
from livestyle.train.plan import StylePlan, TrainedRows
from livestyle.train.trainer import Trainer
from livestyle.weights import (
    StyleInfo,
    file_digest,
    load_network,
    read_style_infos,
    read_training,
    save_network,
)
from tests.test_train import _argv, _train, data, one_thread, painting  # noqa: F401

SMALL = ["--steps", "4", "--size", "32", "--batch", "2"]


def _config(argv: list[str]) -> TrainConfig:
    """What `livestyle train` makes of these options."""
    return config_from_args(cli.build_parser().parse_args(argv))


def _trainer(config: TrainConfig) -> Trainer:
    return Trainer(config, Dist(), torch.device("cpu"), StylePlan.of(config))


@pytest.fixture
def paintings(tmp_path, painting):
    """Three small paintings and a manifest naming them, with their metadata."""
    folder = tmp_path / "paintings"
    folder.mkdir()
    for i, name in enumerate(("dots", "waves", "blocks")):
        image = np.full((40, 56, 3), 40 * i, np.uint8)
        image[:: 3 + i, :: 2 + i] = (200, 50 * i, 250 - 60 * i)
        cv2.imwrite(str(folder / f"{name}.png"), image)
    manifest = folder / "paintings.json"
    manifest.write_text(
        json.dumps(
            [
                {"painting": "dots.png", "name": "dots", "title": "Dots", "order": 1},
                {
                    "painting": "waves.png",
                    "name": "waves",
                    "artist": "Someone",
                    "order": 2,
                    "style_weight": 1.5,
                    "temporal_weight": 20,
                    "stroke_scale": 1.5,
                    "marks": 0.25,
                    "ink": 1,
                    "colour": 0.5,
                    "dots": 0.25,
                },
                {
                    "painting": "blocks.png",
                    "name": "blocks",
                    "licence": "CC0",
                    "order": 3,
                    "stroke_scale": {"lite": 1.25, "standard": 2},
                    "marks": {"lite": 0.5},
                    "ink": {"standard": 0.5},
                    "colour": {"lite": 1},
                    "dots": {"standard": 1},
                },
            ]
        )
    )
    return manifest


def _without(argv: list[str], *options: str) -> list[str]:
    """argv less each option and its value (_argv names one painting and its style)."""
    argv = list(argv)
    for option in options:
        i = argv.index(option)
        del argv[i : i + 2]
    return argv


def _multi_argv(tmp_path, data, manifest, *extra):
    argv = _without(_argv(tmp_path, data, manifest, *SMALL, *extra), "--style-image", "--name")
    return [*argv, "--manifest", str(manifest)]


def test_several_paintings_train_one_network_with_every_style(tmp_path, data, paintings):
    photo = paintings.parent / "dots.png"  # 56 x 40
    argv = _multi_argv(tmp_path, data, paintings, "--preview-every", "2")
    result = _train([*argv, "--preview-image", str(photo)])
    assert result.style_path.name == "styles.lite.safetensors"
    infos = read_style_infos(result.style_path)
    assert [(i.name, i.order, i.index) for i in infos] == [
        ("dots", 1, 0),
        ("waves", 2, 1),
        ("blocks", 3, 2),
    ]
    assert (infos[0].title, infos[1].artist, infos[2].licence) == ("Dots", "Someone", "CC0")
    assert infos[1].training["painting"] == "waves.png"
    assert infos[1].training["style_weight"] == 1.5  # its own weight, not the run's
    assert infos[0].training["style_weight"] == 3.0
    assert infos[1].training["temporal_weight"] == 20  # its own, beside the run's
    assert infos[0].training["temporal_weight"] == 5.0
    assert [i.stroke_scale for i in infos] == [1.0, 1.5, 1.25]  # blocks: its lite network's
    assert [i.marks for i in infos] == [0.0, 0.25, 0.5]
    assert [i.ink for i in infos] == [0.0, 1.0, 0.0]  # blocks: its standard network's only
    assert [i.colour for i in infos] == [0.0, 0.5, 1.0]
    assert [i.dots for i in infos] == [0.0, 0.25, 0.0]  # blocks: dots for standard only
    net, _ = load_network(result.style_path)
    assert net.styles == 3
    # The preview shows the photo and every style: a 4-wide grid.
    preview = cv2.imread(str(result.run_dir / "preview_000002.jpg"))
    assert preview.shape[:2] == (40, 4 * 56)


def test_paintings_from_the_command_line_are_named_after_their_files(tmp_path, data, paintings):
    folder = paintings.parent
    argv = _argv(tmp_path, data, folder / "dots.png", *SMALL, "--network-name", "mine")
    argv = _without(argv, "--name")
    argv += ["--style-image", str(folder / "waves.png")]
    result = _train(argv)
    assert result.style_path.name == "mine.lite.safetensors"
    assert [i.name for i in read_style_infos(result.style_path)] == ["dots", "waves"]


def test_adding_a_painting_trains_only_its_norms(tmp_path, data, paintings):
    base = _train(_multi_argv(tmp_path, data, paintings)).style_path
    new = paintings.parent / "new.png"
    cv2.imwrite(str(new), np.tile(np.array([[0, 255]], np.uint8), (30, 20))[..., None].repeat(3, 2))
    argv = _without(_argv(tmp_path / "add", data, new, *SMALL, "--add-to", str(base)), "--name")
    argv += ["--name", "stripes"]
    result = _train(argv)
    assert result.style_path.name == "styles.lite.safetensors"
    assert result.style_path != base
    old, old_infos = load_network(base)
    grown, infos = load_network(result.style_path)
    assert [i.name for i in infos] == ["dots", "waves", "blocks", "stripes"]
    assert infos[:3] != [] and infos[0].title == old_infos[0].title
    old_state, state = old.state_dict(), grown.state_dict()
    changed = False
    for key, value in state.items():
        if ".norm." in key:
            assert torch.equal(value[:3], old_state[key])  # the old styles, bit for bit
            changed |= not torch.equal(value[3], old_state[key].mean(0))
        else:
            assert torch.equal(value, old_state[key])  # the body is frozen
    assert changed  # the new style's rows trained


def test_adding_to_a_former_lite_network_keeps_its_shape(tmp_path, data, paintings):
    """A lite network trained before the lite shape widened still grows by a painting."""
    former = NetConfig((8, 16, 32), 4)
    base_net = TransformerNet(former, styles=1)
    base = save_network(
        tmp_path / "old.lite.safetensors", base_net, [StyleInfo("dots", former)], {}
    )
    waves = paintings.parent / "waves.png"
    argv = _without(_argv(tmp_path / "add", data, waves, *SMALL), "--name")
    argv += ["--add-to", str(base), "--name", "waves"]
    grown, infos = load_network(_train(argv).style_path)
    assert grown.config == former
    assert [i.name for i in infos] == ["dots", "waves"]


def test_adding_a_style_that_exists_is_refused(tmp_path, data, paintings):
    base = _train(_multi_argv(tmp_path, data, paintings)).style_path
    dots = paintings.parent / "dots.png"
    argv = _without(_argv(tmp_path / "add", data, dots, *SMALL), "--name")
    argv += ["--add-to", str(base), "--name", "dots"]
    with pytest.raises(LivestyleError, match="already has a style 'dots'"):
        _train(argv)


def test_retuning_a_style_trains_only_its_norms_from_where_they_were(tmp_path, data, paintings):
    base = _train(_multi_argv(tmp_path, data, paintings)).style_path
    waves = paintings.parent / "waves.png"
    argv = _without(_argv(tmp_path / "again", data, waves, *SMALL), "--name")
    argv += ["--add-to", str(base), "--retune", "--name", "waves", "--temporal-weight", "40"]
    result = _train(argv)
    old, old_infos = load_network(base)
    tuned, infos = load_network(result.style_path)
    # Every style is still there, in its row and with its key.
    assert [(i.name, i.order) for i in infos] == [("dots", 1), ("waves", 2), ("blocks", 3)]
    assert infos[1].training["steps"] == old_infos[1].training["steps"]  # its first training
    assert [r["temporal_weight"] for r in infos[1].training["retuned"]] == [40]  # and this run's
    # The network's own record: its body as the base trained it, then the run that retuned it.
    record = read_training(result.style_path)
    assert record["temporal_weight"] == 5.0 and record["grown_from"] == [file_digest(base)]
    assert [(r["styles"], r["retune"], r["temporal_weight"]) for r in record["grown"]] == [
        (["waves"], True, 40)
    ]
    old_state, state = old.state_dict(), tuned.state_dict()
    for key, value in state.items():
        if ".norm." not in key:
            assert torch.equal(value, old_state[key])  # the body is frozen
            continue
        assert torch.equal(value[0], old_state[key][0])  # dots, bit for bit
        assert torch.equal(value[2], old_state[key][2])  # blocks
    # The retuned rows trained (the run trains them last), and started from their own values.
    assert any(not torch.equal(state[k][1], old_state[k][1]) for k in state if ".norm." in k)
    plan = StylePlan.adding(base, [Painting(waves, "waves")], "lite", retune=True)
    start = plan.build_model("lite").state_dict()
    for key, value in start.items():
        if ".norm." in key:
            assert torch.equal(value, old_state[key][[0, 2, 1]])
    # Retuned again: the record keeps both runs' recipes.
    argv[argv.index("--add-to") + 1] = str(result.style_path)
    argv[argv.index("--temporal-weight") + 1] = "60"
    again = read_style_infos(_train(argv).style_path)
    assert [r["temporal_weight"] for r in again[1].training["retuned"]] == [40, 60]
    assert [r["temporal_weight"] for r in read_training(result.style_path)["grown"]] == [40, 60]


def test_a_single_style_file_can_be_retuned(tmp_path, data, paintings):
    dots = paintings.parent / "dots.png"
    argv = _without(_argv(tmp_path, data, dots, *SMALL), "--name")
    base = _train([*argv, "--name", "dots"]).style_path
    again = _without(_argv(tmp_path / "again", data, dots, *SMALL), "--name")
    result = _train([*again, "--add-to", str(base), "--retune", "--name", "dots"])
    old, _ = load_network(base)
    tuned, infos = load_network(result.style_path)
    assert [i.name for i in infos] == ["dots"] and tuned.styles == 1
    old_state, state = old.state_dict(), tuned.state_dict()
    assert all(torch.equal(state[k], old_state[k]) for k in state if ".norm." not in k)


def test_retune_needs_a_network_that_has_the_style(tmp_path, data, paintings):
    base = _train(_multi_argv(tmp_path, data, paintings)).style_path
    new = paintings.parent / "dots.png"
    argv = _without(_argv(tmp_path / "again", data, new, *SMALL), "--name")
    with pytest.raises(LivestyleError, match="has no style 'other'"):
        _train([*argv, "--add-to", str(base), "--retune", "--name", "other"])
    with pytest.raises(LivestyleError, match="--retune trains styles of an existing network"):
        _train([*argv, "--retune", "--name", "dots"])


def test_names_must_match_the_paintings(tmp_path):
    args = cli.build_parser().parse_args(
        ["train", "--style-image", "a.png", "b.png", "--name", "one", "--data", str(tmp_path)]
    )
    with pytest.raises(LivestyleError, match="one name per painting"):
        config_from_args(args)
    args = cli.build_parser().parse_args(["train", "--data", str(tmp_path)])
    with pytest.raises(LivestyleError, match="--style-image"):
        config_from_args(args)


def test_the_trained_rows_are_the_last_and_the_others_stay_put():
    # A retune of row 1 of four: the kept rows first, as they were, then row 1; and back.
    order = TrainedRows.order(4, [1])
    assert order == [0, 2, 3, 1]
    assert [order[i] for i in TrainedRows.undo(order)] == [0, 1, 2, 3]
    rows = TrainedRows(first=3, count=4)
    assert list(rows.range) == [3]
    assert set(rows.draw(np.random.default_rng(0), 20).tolist()) == {3}
    assert rows.index(torch.tensor([3, 3])).tolist() == [0, 0]
    net = TransformerNet(NetConfig((4, 4, 4), 1), styles=4)
    rows.freeze_others(net)
    net.select(torch.full((4,), 0.25))  # every row takes part: only the hook keeps rows 0-2
    net(torch.rand(1, 3, 16, 16)).sum().backward()
    for _, parameter in norm_parameters(net):
        assert not parameter.grad[:3].any() and parameter.grad[3].any()


def test_norm_rows_learn_faster_than_the_shared_body(tmp_path, data, paintings):
    from livestyle.train.trainer import NORM_LR_SCALE

    trainer = _trainer(_config(_multi_argv(tmp_path, data, paintings)))
    body, norms = trainer.optimizer.param_groups
    assert norms["lr"] == pytest.approx(NORM_LR_SCALE * body["lr"])
    assert all(p.dim() == 2 and p.shape[0] == 3 for p in norms["params"])  # a row per style
    single = _config(_argv(tmp_path, data, paintings.parent / "dots.png"))
    (group,) = Trainer(single, Dist(), torch.device("cpu")).optimizer.param_groups
    assert group["lr"] == single.lr


def test_each_style_has_one_target_per_tap(tmp_path, data, paintings):
    from livestyle.train.data import load_style_image

    config = _config(_multi_argv(tmp_path, data, paintings))
    trainer = _trainer(config)
    trainer.set_styles([load_style_image(p.path, 32, None) for p in config.paintings])
    for name, target in trainer.targets.items():
        channels = target.shape[-1]
        assert target.shape == (3, channels, channels), name
        assert not torch.equal(target[0], target[1])


def test_the_color_term_uses_each_samples_own_painting(tmp_path, data, paintings):
    from livestyle.train.data import load_style_image
    from livestyle.train.losses import color_stats

    config = _config(_multi_argv(tmp_path, data, paintings, "--color-weight", "2"))
    trainer = _trainer(config)
    images = [load_style_image(p.path, 32, None) for p in config.paintings]
    trainer.set_styles(images)
    mean, cov = trainer.colors
    assert mean.shape == (3, 3) and cov.shape == (3, 3, 3)
    torch.testing.assert_close(mean[1], color_stats(images[1])[0][0])
    parts = trainer.losses(torch.rand(2, 3, 32, 32), torch.tensor([0, 2]))
    assert float(parts["color"].detach()) > 0
    plain = _trainer(_config(_multi_argv(tmp_path, data, paintings)))
    plain.set_styles(images)
    assert "color" not in plain.losses(torch.rand(2, 3, 32, 32), torch.tensor([0, 2]))


def test_each_style_has_its_own_temporal_weight(tmp_path, data, paintings):
    """waves asks for temporal weight 20 in the manifest, four times the run's 5: its samples'
    temporal term is four times that of the same photos under dots (a fresh network, whose
    style rows all start alike, gives both the same pictures)."""
    trainer = _trainer(_config(_multi_argv(tmp_path, data, paintings)))
    trainer.set_styles([torch.rand(1, 3, 32, 32) for _ in range(3)])
    x = torch.rand(2, 3, 32, 32)

    def temporal(style: int) -> float:
        trainer.rngs.torch_gen.manual_seed(0)  # the same motion for both
        with torch.no_grad():
            return float(trainer.losses(x, torch.full((2,), style))["temporal"])

    assert temporal(0) > 0
    assert temporal(1) == pytest.approx(4 * temporal(0), rel=1e-5)


def test_a_network_learns_to_follow_its_teacher(tmp_path, data, paintings):
    """With only the teacher's term, training brings the student's pictures closer to the
    teacher's, style by style; the recipe names the teacher."""
    teacher = _train(_multi_argv(tmp_path / "teacher", data, paintings)).style_path
    only_teacher = ["--content-weight", "0", "--style-weight", "0", "--temporal-weight", "0"]
    argv = _multi_argv(tmp_path / "student", data, paintings, "--teacher", str(teacher))
    argv = _without(argv, "--steps")
    result = _train([*argv, "--steps", "40", "--tv-weight", "0", *only_teacher, "--lr", "3e-3"])
    rows = (result.run_dir / "losses.csv").read_text().splitlines()
    header, first, last = rows[0].split(","), rows[1].split(","), rows[-1].split(",")
    column = header.index("teacher")
    assert float(last[column]) < 0.7 * float(first[column])
    info = read_style_infos(result.style_path)[0]
    assert info.training["teacher"] == teacher.name and info.training["teacher_weight"] == 10.0


def test_a_teacher_without_the_runs_styles_is_refused(tmp_path, data, paintings):
    dots = paintings.parent / "dots.png"
    other = _train(_without(_argv(tmp_path / "one", data, dots, *SMALL), "--name")).style_path
    args = cli.build_parser().parse_args(
        _multi_argv(tmp_path / "student", data, paintings, "--teacher", str(other))
    )
    with pytest.raises(LivestyleError, match="has no style .waves."):
        config_from_args(args)
    args.teacher = str(tmp_path / "nothing.safetensors")
    with pytest.raises(LivestyleError, match="no such file"):
        config_from_args(args)


def test_init_from_starts_at_a_trained_network_of_another_padding(tmp_path, data, paintings):
    """--init-from copies every weight of a reflection-padded network into the run's
    zero-padded one, each style's norm row found by name (the file's rows in another
    order), and every parameter trains on from there."""
    source = TransformerNet(replace(VARIANTS["lite"], padding="reflect"), styles=3)
    torch.manual_seed(3)
    with torch.no_grad():
        for _, param in source.named_parameters():
            param.uniform_(-0.5, 0.5)
    names = ["blocks", "dots", "waves"]  # the manifest says dots, waves, blocks
    path = save_network(
        tmp_path / "reflected.lite.safetensors",
        source,
        [StyleInfo(name, source.config, index=i) for i, name in enumerate(names)],
        {},
    )
    config = _config(_multi_argv(tmp_path / "run", data, paintings, "--init-from", str(path)))
    trainer = _trainer(config)
    model = trainer.model
    assert model.config.padding == "zeros"
    stored, _ = load_network(path)  # the file keeps weights at its own precision
    started, copied = dict(model.named_parameters()), dict(stored.named_parameters())
    for name, value in started.items():
        if ".norm." in name:  # row r of the run is the file's row of that style's name
            rows = copied[name].reshape(3, -1)
            expected = rows[[names.index(n) for n in ("dots", "waves", "blocks")]]
            assert torch.equal(value.detach().reshape(3, -1), expected)
        else:
            assert torch.equal(value.detach(), copied[name])
    assert all(p.requires_grad for p in model.parameters())
    result = _train(_multi_argv(tmp_path / "run", data, paintings, "--init-from", str(path)))
    assert read_style_infos(result.style_path)[0].training["init_from"] == path.name


def test_init_from_refuses_another_shape_and_add_to(tmp_path, data, paintings):
    other = TransformerNet(NetConfig((12, 32, 64), 3, shuffle=True), styles=3)
    path = save_network(
        tmp_path / "small.safetensors",
        other,
        [StyleInfo(n, other.config, index=i) for i, n in enumerate(("dots", "waves", "blocks"))],
        {},
    )
    config = _config(_multi_argv(tmp_path / "run", data, paintings, "--init-from", str(path)))
    with pytest.raises(LivestyleError, match="another shape"):
        _trainer(config)
    argv = _multi_argv(tmp_path / "run", data, paintings, "--init-from", str(path))
    with pytest.raises(LivestyleError, match="pick one"):
        _config([*argv, "--add-to", str(path)])
    with pytest.raises(LivestyleError, match="--init-from .*no such file"):
        _config(_multi_argv(tmp_path / "run", data, paintings, "--init-from", "nothing.st"))


def _faces_file(tmp_path, data) -> str:
    """Face boxes for two of the data fixture's photos; sub/c.png and broken.jpg unnamed."""
    path = tmp_path / "faces.json"
    boxes = {"a.jpg": [[10, 8, 24, 24]], "b.png": [[20, 10, 30, 26], [0, 0, 8, 8]]}
    path.write_text(json.dumps({"detector": "test", "photos": boxes}))
    return str(path)


def test_face_weight_zero_trains_as_without_faces(tmp_path, data, paintings):
    """--faces with --face-weight 0 changes nothing, bit for bit; a face weight does."""
    faces = _faces_file(tmp_path, data)
    plain = _train(_multi_argv(tmp_path / "plain", data, paintings))
    zero = _train(_multi_argv(tmp_path / "zero", data, paintings, "--faces", faces))
    assert [s.losses for s in zero.history] == [s.losses for s in plain.history]
    weighted = _multi_argv(tmp_path / "w", data, paintings, "--faces", faces, "--face-weight", "4")
    contents = [s.losses["content"] for s in _train(weighted).history]
    assert contents != [s.losses["content"] for s in plain.history]


def test_a_faces_run_records_them_and_names_the_photos_it_lacks(tmp_path, data, paintings, caplog):
    faces = _faces_file(tmp_path, data)
    argv = _multi_argv(tmp_path, data, paintings, "--faces", faces, "--face-weight", "2.5")
    result = _train(argv)
    assert len(result.history) == 4
    # a.jpg and b.png are named; sub/c.png and broken.jpg (found, then unreadable) are not.
    assert "names 2 of the 4 training photos; the other 2 count as without faces" in caplog.text
    training = read_style_infos(result.style_path)[0].training
    assert training["faces"] == "faces.json" and training["face_weight"] == 2.5
    plain = _train(_multi_argv(tmp_path / "plain", data, paintings))
    assert "faces" not in read_style_infos(plain.style_path)[0].training


def test_the_face_mask_follows_the_moved_copy_and_the_shift(tmp_path, data, paintings, monkeypatch):
    """The crops are black with a white square where their face mask is: after the temporal
    copy's motion and the loss network's jitter (both made large here), the content weights
    are 1 + W x the white share of each feature pixel of what the loss network sees."""
    import livestyle.train.losses as losses_module
    import livestyle.train.trainer as trainer_module

    faces = _faces_file(tmp_path, data)
    config = _config(_multi_argv(tmp_path, data, paintings, "--faces", faces, "--face-weight", "4"))
    trainer = _trainer(config)
    trainer.set_styles([torch.rand(1, 3, 32, 32) for _ in range(3)])
    shift_left = torch.tensor([[1.0, 0.0, 0.25], [0.0, 1.0, -0.25]])  # 8 px left, 8 px down
    monkeypatch.setattr(losses_module, "random_motion", lambda n, gen: shift_left.repeat(n, 1, 1))
    monkeypatch.setattr(trainer_module, "random_offset", lambda gen: (2, 7))
    weights, seen = [], []
    real_loss, real_forward = trainer_module.content_loss, trainer.lossnet.forward

    def spy_loss(output, target, weight=None):
        weights.append(weight)
        return real_loss(output, target, weight)

    def spy_forward(x):
        seen.append(x)
        return real_forward(x)

    monkeypatch.setattr(trainer_module, "content_loss", spy_loss)
    monkeypatch.setattr(trainer.lossnet, "forward", spy_forward)
    x = torch.zeros(2, 3, 64, 64)
    x[:, :, 16:40, 20:44] = 1.0
    masks = x[:, :1].clone()
    with torch.no_grad():
        trainer.losses(x, torch.tensor([0, 1]), masks)
    [weight] = weights
    photos = seen[1]  # the loss network's second look: the photos and their moved copies
    assert photos.shape[0] == weight.shape[0] == 4
    white = F.interpolate(photos[:, :1].float().clamp(0, 1), size=weight.shape[-2:], mode="area")
    torch.testing.assert_close(weight, 1 + 4 * white, rtol=0, atol=0.15)
    # The moved copies' faces are elsewhere: a mask that stayed put would fail above.
    assert float((weight[2:] - weight[:2]).abs().max()) > 2
