"""The command line's happy paths and its one-line errors (exit code 2, no traceback)."""

import cv2
import numpy as np
import pytest

from livestyle.cli import main
from livestyle.sizing import NetworkSize

from .media import write_styles, write_video


@pytest.fixture
def styles(tmp_path, monkeypatch):
    folder = write_styles(tmp_path / "styles")
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # no user styles leak in
    return folder


def one_line_error(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith("livestyle") and "error" in last
    for part in parts:
        assert part in last
    return last


def test_styles_lists_key_numbers_and_metadata(styles, capsys):
    assert main(["styles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["1", "alpha"]
    assert "Painting beta" in lines[1] and "public domain" in lines[1]


def test_no_styles_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LIVESTYLE_STYLES_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("livestyle.discovery.PACKAGE_WEIGHTS_DIR", tmp_path / "none")
    assert main(["styles"]) == 0
    assert "livestyle train" in capsys.readouterr().out
    assert main(["live", "--headless", "--source", "demo", "--max-frames", "1"]) == 2
    one_line_error(capsys, "no styles installed", "livestyle train")


def test_headless_demo_prints_summary_and_records(styles, tmp_path, capsys):
    out = tmp_path / "x.mp4"
    code = main(
        [
            "live",
            "--headless",
            "--source",
            "demo",
            "--max-frames",
            "20",
            "--width",
            "64",
            "--height",
            "48",
            "--record",
            str(out),
        ]
    )
    assert code == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("captured 20, stylized ") and "latency p50" in summary
    video = cv2.VideoCapture(str(out))
    assert video.read()[0] and int(video.get(cv2.CAP_PROP_FRAME_COUNT)) >= 1


def test_default_command_is_live(styles, capsys):
    assert (
        main(
            [
                "--headless",
                "--source",
                "demo",
                "--max-frames",
                "3",
                "--width",
                "32",
                "--height",
                "32",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("captured 3")


def test_stylize_image_and_video(styles, tmp_path, capsys):
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 256, (30, 40, 3), np.uint8))
    clip = write_video(tmp_path / "clip.mp4", frames=12, fps=12.0, size=(40, 32))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert main(["stylize", str(image), str(clip), "--style", "beta", "-o", str(out_dir)]) == 0
    result = cv2.imread(str(out_dir / "photo-beta.png"))
    assert result.shape == (30, 40, 3)
    video = cv2.VideoCapture(str(out_dir / "clip-beta.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 12  # every frame, none dropped
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(12.0)
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (40, 32)


@pytest.mark.parametrize(
    "argv, parts",
    [
        (["live", "--headless", "--source", "9"], ["no camera at index 9"]),
        (["live", "--headless", "--source", "/missing.mp4"], ["/missing.mp4", "no such file"]),
        (["live", "--headless", "--source", "demo", "--style", "nope"], ["unknown style 'nope'"]),
        (
            ["live", "--headless", "--source", "demo", "--record", "/no/dir/x.mp4"],
            ["/no/dir/x.mp4", "does not exist"],
        ),
        (["stylize", "/missing.png", "--style", "alpha"], ["/missing.png"]),
        (["stylize", "README", "--style", "alpha"], ["unknown file type"]),
        (["live", "--strength", "3"], ["--strength"]),
        (["live", "--infer-size", "0"], ["--infer-size"]),
        (["live", "--fps", "-5"], ["--fps"]),
        # The network's reflection padding needs 5 px: 4 used to pass and then crash.
        (["live", "--infer-size", "4"], ["--infer-size", "at least 5"]),
        (["styles", "--styles-dir", "/does/not/exist"], ["/does/not/exist", "no such folder"]),
        (
            ["live", "--headless", "--max-frames", "1", "--styles-dir", "/does/not/exist"],
            ["/does/not/exist", "no such folder"],
        ),
        (["--styles-dir", "/does/not/exist", "styles"], ["/does/not/exist", "no such folder"]),
        (
            ["eval-stability", "--video", "/missing.mp4", "--style", "alpha"],
            ["/missing.mp4", "no such file"],
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(styles, capsys, argv, parts):
    assert main_exit(argv) == 2
    one_line_error(capsys, *parts)


def main_exit(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse errors exit directly
        return exc.code


def test_unreadable_input_files(styles, tmp_path, capsys):
    bad_image = tmp_path / "bad.png"
    bad_image.write_bytes(b"garbage")
    assert main(["stylize", str(bad_image), "--style", "alpha", "-o", str(tmp_path / "o.png")]) == 2
    one_line_error(capsys, "bad.png", "not a readable image")
    bad_video = tmp_path / "bad.mp4"
    bad_video.write_bytes(b"garbage")
    assert main(["live", "--headless", "--source", str(bad_video)]) == 2
    one_line_error(capsys, "bad.mp4", "not a readable video")


def test_corrupt_style_is_skipped_others_load(styles, capsys, caplog):
    (styles / "zzz.safetensors").write_bytes(b"\x00" * 64)
    assert (
        main(
            [
                "--headless",
                "--source",
                "demo",
                "--max-frames",
                "2",
                "--width",
                "32",
                "--height",
                "32",
            ]
        )
        == 0
    )
    assert "zzz.safetensors" in caplog.text and "skipping" in caplog.text
    assert capsys.readouterr().out.startswith("captured 2")


def test_unwritable_output_for_stylize(styles, tmp_path, capsys):
    image = tmp_path / "p.png"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    assert main(["stylize", str(image), "--style", "alpha", "-o", "/no/dir/o.png"]) == 2
    one_line_error(capsys, "/no/dir")


def test_live_on_cpu_runs_the_network_smaller_unless_told(stylizer):
    from livestyle.commands.live import use_live_size
    from livestyle.sizing import CPU_LIVE_INFER_SIZE

    use_live_size(stylizer, None, 1.0, 1.0)
    assert stylizer.network_size.long_side == CPU_LIVE_INFER_SIZE
    stylizer.network_size = NetworkSize(640)
    use_live_size(stylizer, 640, 1.0, 1.0)
    assert stylizer.network_size.long_side == 640


def test_stroke_size_does_not_follow_the_camera_resolution(stylizer):
    from livestyle.commands.live import use_live_size
    from livestyle.sizing import CPU_LIVE_INFER_SIZE

    use_live_size(stylizer, None, 1.0, 1.0)
    # A 480p and a 1080p camera: the network sees the same long side.
    assert max(stylizer.network_shape(480, 640)) == CPU_LIVE_INFER_SIZE
    assert max(stylizer.network_shape(1080, 1920)) == CPU_LIVE_INFER_SIZE
    use_live_size(stylizer, None, 1.0, 2.0)
    assert max(stylizer.network_shape(1080, 1920)) == CPU_LIVE_INFER_SIZE // 2  # bigger strokes


def test_fps_target_parses_and_refuses_zero_and_negatives(capsys):
    from livestyle.cli import build_parser
    from livestyle.commands.live import config_from_args

    args = build_parser().parse_args(["live", "--fps-target", "12.5"])
    assert config_from_args(args).fps_target == 12.5
    assert config_from_args(build_parser().parse_args(["live"])).fps_target is None
    for bad in ("0", "-5"):
        with pytest.raises(SystemExit) as exit_info:
            main(["live", "--headless", "--fps-target", bad])
        assert exit_info.value.code == 2
        assert "--fps-target" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("options", "adapts"),
    [
        ([], (320, 30.0)),  # the CPU's live size, the demo's rate
        (["--fps-target", "12"], (320, 12.0)),
        (["--stroke-scale", "2"], (160, 30.0)),
        (["--infer-size", "64"], None),  # pinned: nothing adapts
        (["--infer-scale", "0.5"], None),
    ],
)
def test_the_live_size_adapts_unless_pinned(styles, monkeypatch, options, adapts):
    import livestyle.commands.live as live

    built, real = [], live.Pipeline

    def spy(*args, governor=None, **kwargs):
        built.append(governor)
        return real(*args, governor=governor, **kwargs)

    monkeypatch.setattr(live, "Pipeline", spy)
    argv = ["live", "--headless", "--source", "demo-scene", "--width", "64", "--height", "48"]
    assert main([*argv, "--max-frames", "2", *options]) == 0
    (governor,) = built
    assert (None if governor is None else (governor.top, governor.target_fps)) == adapts


def test_stroke_scale_is_bounded(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["live", "--headless", "--stroke-scale", "9"])
    assert exit_info.value.code == 2
    assert "--stroke-scale" in capsys.readouterr().err


def test_smallest_infer_size_runs(styles, capsys):
    argv = ["live", "--headless", "--source", "demo", "--max-frames", "3", "--infer-size", "5"]
    assert main([*argv, "--width", "64", "--height", "36"]) == 0
    assert capsys.readouterr().out.startswith("captured 3")


def test_options_may_come_before_the_command(styles, tmp_path, capsys):
    more = write_styles(tmp_path / "more", names=("delta",))
    assert main(["--styles-dir", str(more), "styles"]) == 0
    assert "delta" in capsys.readouterr().out
    assert main(["-v", f"--styles-dir={more}", "styles", "--variant", "lite"]) == 0
    assert "delta" in capsys.readouterr().out


def test_stylize_to_a_file_type_opencv_cannot_write(styles, tmp_path, capsys):
    image = tmp_path / "x.png"
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    out = tmp_path / "out.txt"
    assert main(["stylize", str(image), "--style", "alpha", "-o", str(out)]) == 2
    one_line_error(capsys, "out.txt", "unsupported image format")
    assert not out.exists()


def test_stylize_creates_the_output_folder(styles, tmp_path, capsys):
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.zeros((12, 16, 3), np.uint8))
    clip = write_video(tmp_path / "clip.mp4", frames=3, fps=10.0, size=(16, 12))
    several = tmp_path / "new" / "folder"
    assert main(["stylize", str(image), str(clip), "--style", "beta", "-o", f"{several}/"]) == 0
    assert (several / "photo-beta.png").is_file() and (several / "clip-beta.mp4").is_file()
    single = tmp_path / "single"  # one input and a trailing slash: a folder too
    assert main(["stylize", str(image), "--style", "beta", "-o", f"{single}/"]) == 0
    assert (single / "photo-beta.png").is_file()


def test_stylize_refuses_a_file_as_the_folder_for_several_inputs(styles, tmp_path, capsys):
    image = tmp_path / "photo.png"
    cv2.imwrite(str(image), np.zeros((12, 16, 3), np.uint8))
    taken = tmp_path / "taken"
    taken.write_text("")
    assert main(["stylize", str(image), str(image), "--style", "beta", "-o", str(taken)]) == 2
    one_line_error(capsys, "taken", "is a file")


def test_out_dir_for_snapshots_is_created(tmp_path):
    from livestyle.commands.live import prepare_out_dir
    from livestyle.core.errors import OutputError

    prepare_out_dir(tmp_path / "captures" / "today")
    assert (tmp_path / "captures" / "today").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="output folder"):
        prepare_out_dir(tmp_path / "file")


def test_each_style_has_its_own_stroke_scale_live():
    """A style whose painting asks for strokes twice as large runs the network at half the
    live size, and gives the very picture that size gives; outside live sizing (stylize,
    --infer-size) the style's scale is not applied."""
    from dataclasses import replace

    from livestyle.commands.live import use_live_size
    from livestyle.sizing import CPU_LIVE_INFER_SIZE
    from livestyle.stylizer import Stylizer

    from .test_fast_paths import frame, styles

    (net0, info0), (net1, info1) = styles(count=2)
    loaded = [(net0, info0), (net1, replace(info1, stroke_scale=2.0))]
    live = Stylizer(loaded, "cpu", "fp32", backend="torch")
    image = frame(480, 640)
    plain = Stylizer(
        loaded, "cpu", "fp32", backend="torch", network_size=NetworkSize(CPU_LIVE_INFER_SIZE)
    )
    assert max(plain.network_shape(480, 640)) == CPU_LIVE_INFER_SIZE
    plain.select(1)
    assert max(plain.network_shape(480, 640)) == CPU_LIVE_INFER_SIZE  # not live: no scaling

    use_live_size(live, None, 1.0, 1.0)
    assert max(live.network_shape(480, 640)) == CPU_LIVE_INFER_SIZE
    live.select(1)
    assert max(live.network_shape(480, 640)) == CPU_LIVE_INFER_SIZE // 2
    plain.network_size = NetworkSize(CPU_LIVE_INFER_SIZE // 2)
    np.testing.assert_array_equal(live.stylize(image).image, plain.stylize(image).image)
    # --stroke-scale multiplies the style's own.
    use_live_size(live, None, 1.0, 2.0)
    assert max(live.network_shape(480, 640)) == CPU_LIVE_INFER_SIZE // 4
