"""Sound in live recordings (--audio): real FFmpeg sources (lavfi, paced like a device by
`arealtime`) through the real capture thread, recorder and AAC writer, checked in the file;
the drift over 10 minutes on a simulated clock; devices that fail are one line and a video."""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from livestyle.cli import main
from livestyle.live.audio import (
    RATE,
    AudioBlock,
    AudioCapture,
    SampleClock,
    default_device,
    split_device,
    stretch,
)
from livestyle.live.pipeline import Pipeline
from livestyle.live.session import LiveSession
from livestyle.video.demo import DemoSource

from .fakes import FlakyCamera, wait_for

av = pytest.importorskip("av")

FRAME_S = 1 / 30
TONE = "lavfi:sine=frequency=440:sample_rate=48000:samples_per_frame=480,arealtime"
# Silence, then from 1.0 s of the device's own time a 1 kHz beep at half scale.
BEEP_AT_S = 1.0
BEEP = (
    "lavfi:aevalsrc=exprs='if(gte(t\\,1.0)\\,0.5*sin(2*PI*1000*t)\\,0)'"
    ":sample_rate=48000:nb_samples=480,arealtime"
)
# The fake device of the drift measurement: benchmarks/ is scripts, loaded by path.
DRIFT_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "quality" / "audio_drift.py"
spec = importlib.util.spec_from_file_location("livestyle_audio_drift", DRIFT_PATH)
assert spec is not None and spec.loader is not None
audio_drift = sys.modules.setdefault("livestyle_audio_drift", importlib.util.module_from_spec(spec))
spec.loader.exec_module(audio_drift)


def streams(path: Path) -> dict:
    """The file's video times and its decoded sound (mono float samples) with their rate."""
    with av.open(str(path)) as container:
        found: dict = {"video": [float(f.time) for f in container.decode(video=0)]}
        container.seek(0)
        if container.streams.audio:
            audio = container.streams.audio[0]
            found["codec"] = audio.codec_context.name
            frames = list(container.decode(audio))
            found["audio_start"] = float(frames[0].time)
            found["sound"] = np.concatenate([f.to_ndarray().mean(axis=0) for f in frames])
            found["rate"] = audio.rate
    return found


def video_seconds(times: list[float]) -> float:
    return times[-1] + float(np.median(np.diff(times)))  # the last frame shows for a frame


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if samples.size else 0.0


def onset(sound: np.ndarray, rate: int, level: float, window_s: float = 0.005) -> float:
    """When the sound first gets louder than `level` (RMS over `window_s`), in seconds."""
    size = round(window_s * rate)
    windows = sound[: len(sound) // size * size].reshape(-1, size)
    loud = np.flatnonzero(np.sqrt(np.mean(windows**2, axis=1)) > level)
    assert loud.size, "the signal is not in the file"
    return float(loud[0] * size / rate)


def dominant_hz(sound: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(sound * np.hanning(len(sound))))
    return float(np.fft.rfftfreq(len(sound), 1 / rate)[np.argmax(spectrum)])


def record_live(tmp_path: Path, device: str, frames: int = 60) -> tuple[int, Path]:
    out = tmp_path / "live.mp4"
    code = main(
        ["live", "--headless", "--source", "demo", "--width", "64", "--height", "48"]
        + ["--max-frames", str(frames), "--record", str(out), "--audio", device]
    )
    return code, out


# --- the real thing, through the command line ---
def test_live_recording_has_the_tone_in_aac_as_long_as_the_video(styles_env, tmp_path):
    code, out = record_live(tmp_path, TONE)
    assert code == 0
    found = streams(out)
    assert found["codec"] == "aac" and len(found["video"]) > 10
    sound, rate = found["sound"], found["rate"]
    assert len(sound) / rate == pytest.approx(video_seconds(found["video"]), abs=FRAME_S)
    assert abs(found["audio_start"]) <= FRAME_S  # both start at the recording's time 0
    middle = sound[len(sound) // 4 : 3 * len(sound) // 4]
    assert dominant_hz(middle, rate) == pytest.approx(440, abs=5)
    assert rms(middle) == pytest.approx(0.125 / np.sqrt(2), rel=0.2)  # lavfi's sine: 1/8 peak


def test_a_device_that_does_not_open_is_one_line_and_a_video(styles_env, tmp_path, caplog):
    with caplog.at_level(logging.INFO):
        code, out = record_live(tmp_path, "lavfi:nosuchfilter", frames=15)
    assert code == 0
    lines = [r.getMessage() for r in caplog.records if "sound" in r.getMessage()]
    assert lines == [
        "no sound: cannot open lavfi:nosuchfilter (Filter not found); recording video only"
    ]
    found = streams(out)
    assert "codec" not in found and len(found["video"]) > 3


def test_a_device_that_stops_leaves_silence_and_the_whole_video(styles_env, tmp_path, caplog):
    """The tone lasts 0.5 s (a microphone unplugged then): one line, the video goes on."""
    device = "lavfi:sine=frequency=440:sample_rate=48000:samples_per_frame=480:d=0.5,arealtime"
    with caplog.at_level(logging.INFO):
        code, out = record_live(tmp_path, device, frames=45)
    assert code == 0
    stopped = [r.getMessage() for r in caplog.records if "no sound" in r.getMessage()]
    assert len(stopped) == 1 and "the rest of the recording is silent" in stopped[0]
    found = streams(out)
    sound, rate = found["sound"], found["rate"]
    assert len(sound) / rate == pytest.approx(video_seconds(found["video"]), abs=FRAME_S)
    assert rms(sound[-rate // 2 :]) < 1e-3  # silent at the end
    assert rms(sound[: rate // 4]) > 0.05  # the tone at the start (it began before the video)


# --- in sync: a beep at a known capture-clock time lands where its frame is ---
def test_a_beep_is_in_the_file_within_a_frame_of_the_frame_captured_with_it(stylizer, tmp_path):
    # A camera, as a microphone goes with: its frames' times are the capture clock's. (The
    # paced demo's are its nominal 1/30 s steps, a frame behind the clock on a loaded
    # machine, and the test then measured that lag instead of the sound's placement.)
    camera = FlakyCamera(fail_at=-1, reopen_failures=None)  # never fails
    pipeline = Pipeline(camera, stylizer, audio=BEEP)
    frames: list[tuple[float, float]] = []  # (pts, captured_at) of every stylized frame
    pipeline.add_sink(lambda frame: frames.append((frame.pts, frame.captured_at)))
    out = tmp_path / "beep.mp4"
    pipeline.start()
    # Paused: the sound starts 0.4 s before the first frame, and that 0.4 s must go.
    pipeline.toggle_pause()
    time.sleep(0.2)  # a frame being stylized as it paused goes by
    pipeline.start_recording(out)
    recorder = pipeline.recorder
    assert recorder is not None and recorder.sound is not None
    wait_for(lambda: recorder.sound.opened_at is not None, 5, "the device to open")
    beep_at = recorder.sound.opened_at + BEEP_AT_S  # arealtime starts its clock at open
    time.sleep(0.4)
    pipeline.toggle_pause()
    wait_for(lambda: frames and frames[-1][1] > beep_at + 0.5, 10, "frames past the beep")
    pipeline.stop_recording(wait=True)
    pipeline.stop()
    # The frame captured nearest the beep, and the beep's time from it on the capture clock.
    pts, captured_at = min(frames, key=lambda f: abs(f[1] - beep_at))
    assert recorder.first_pts is not None
    expected = (pts - recorder.first_pts) + (beep_at - captured_at)
    found = streams(out)
    heard = found["audio_start"] + onset(found["sound"], found["rate"], level=0.5 / np.sqrt(2) / 2)
    assert heard == pytest.approx(expected, abs=FRAME_S)
    assert 0.3 < expected < 0.7  # the beep came well after the recording's start


def test_sound_before_the_first_frame_is_cut_and_a_late_device_starts_with_silence(tmp_path):
    """LiveSound through a real PyAVWriter: blocks from before time 0 are cut, a gap before
    the first kept block is silence, the sound ends with the last frame."""
    from livestyle.video.writer import PyAVWriter

    class Feed:
        rate, layout, ended = RATE, "mono", False

        def __init__(self) -> None:
            t = np.arange(RATE // 10) / RATE  # 0.1 s blocks of a 1 kHz tone
            one = (0.5 * np.sin(2 * np.pi * 1000 * t))[None, :].astype(np.float32)
            self.blocks = [(-RATE // 20, one), (RATE // 5, one), (RATE // 5 + RATE // 10, one)]

        def take(self, until: float, wait_s: float = 0.0) -> list:
            taken = [b for b in self.blocks if b[0] < until * RATE]
            self.blocks = self.blocks[len(taken) :]
            return taken

    path = tmp_path / "fed.mp4"
    writer = PyAVWriter(path, 10, (64, 48), sound=Feed())
    for i in range(4):  # frames at 0.0-0.3 s: the file is 0.4 s long
        writer.write(np.zeros((48, 64, 3), np.uint8), i / 10)
    writer.release()
    found = streams(path)
    sound, rate = found["sound"], found["rate"]
    assert len(sound) / rate == pytest.approx(0.4, abs=1024 / RATE)
    level = [
        rms(sound[round(a * rate) : round(b * rate)])
        for a, b in [(0.0, 0.04), (0.08, 0.16), (0.22, 0.38)]
    ]
    # The cut block's second half, the silence before the next, then two whole blocks.
    assert level[0] > 0.25 and level[1] < 0.05 and level[2] > 0.25


# --- drift: 10 simulated minutes ---
@pytest.mark.parametrize("drift", [0.001, -0.001, 0.0])
def test_ten_minutes_of_a_fast_or_slow_device_stay_within_a_frame(drift):
    result = audio_drift.simulate(drift, seconds=600.0, seed=1)
    assert result.worst <= FRAME_S
    assert result.jumps == 0  # a steady drift is stretched away, never jumped over
    if drift:  # timed by its sample count alone, it would be 0.6 s off by the end
        assert result.counted_only > 0.5
        assert result.stretched / RATE == pytest.approx(-drift * 600, rel=0.1)


def test_lost_samples_are_a_gap_of_silence_at_once():
    """An overrun loses 0.2 s of samples: within WINDOW_S the sound is back in its place."""
    clock, block = SampleClock(RATE), 960
    heard = 0.0
    for i in range(200):
        if i == 100:
            heard += 0.2  # the device lost these: its count runs 0.2 s behind
        start, length = clock.place(heard, block)
        heard += block / RATE
    assert clock.jumps == 1
    assert (clock.origin or 0.0) + start / RATE == pytest.approx(heard - block / RATE, abs=0.005)


def test_stretch_keeps_the_ends_and_changes_the_length():
    samples = np.linspace(-1, 1, 100, dtype=np.float32)[None, :]
    longer = stretch(samples, 101)
    assert longer.shape == (1, 101) and longer[0, 0] == -1 and longer[0, -1] == 1
    assert stretch(samples, 100) is samples


def test_a_full_buffer_drops_the_oldest_sound_and_counts_it():
    capture = AudioCapture("lavfi:unused", buffer_s=0.03)  # never started
    for i in range(5):  # 10 ms blocks: only the newest three fit
        capture._push(AudioBlock(i * 480, np.full((1, 480), i, np.float32)))
    assert capture.dropped == 2
    assert [b.start for b in capture.take(10**9)] == [960, 1440, 1920]


# --- devices, options, the window's switch ---
def test_device_names():
    formats = {"alsa", "lavfi", "avfoundation", "dshow"}
    assert split_device("lavfi:sine=f=1,arealtime", formats) == ("lavfi", "sine=f=1,arealtime")
    assert split_device("avfoundation::0", formats) == ("avfoundation", ":0")
    assert split_device("dshow:audio=Mic (USB)", formats) == ("dshow", "audio=Mic (USB)")
    assert default_device("linux") == "alsa:default"
    assert default_device("darwin") == "avfoundation::default"
    assert default_device("win32") is None
    if sys.platform.startswith("linux"):
        assert split_device("hw:1,0", formats) == ("alsa", "hw:1,0")


def test_m_switches_sound_for_the_next_recording(stylizer, tmp_path):
    pipeline = Pipeline(DemoSource(64, 48, fps=30), stylizer, out_dir=tmp_path)
    session = LiveSession(pipeline, out_dir=tmp_path)
    assert not pipeline.audio_on and not session.state().audio
    pipeline.audio_device = None  # no --audio, and no default microphone (Windows)
    session.toggle_audio()
    assert not pipeline.audio_on and "--audio DEVICE" in session.state().toasts[-1][0]
    pipeline.audio_device = TONE  # --audio TONE, or the platform's default
    session.toggle_audio()
    assert pipeline.audio_on and session.state().audio
    assert "sound on" in session.state().toasts[-1][0]
    pipeline.start_recording(tmp_path / "a.mp4")
    assert pipeline.recorder is not None and pipeline.recorder.sound is not None
    assert pipeline.recorder.sound.device == TONE
    pipeline.stop_recording(wait=True)
    session.toggle_audio()
    assert not pipeline.audio_on and "sound off" in session.state().toasts[-1][0]
    pipeline.start_recording(tmp_path / "b.mp4")
    assert pipeline.recorder is not None and pipeline.recorder.sound is None
    pipeline.stop_recording(wait=True)


def test_audio_option_takes_a_device_or_the_default(monkeypatch):
    from livestyle.cli import build_parser
    from livestyle.commands.live import config_from_args

    parser = build_parser()
    named = config_from_args(parser.parse_args(["live", "--audio", "alsa:hw:1"]))
    assert named.audio == "alsa:hw:1"
    assert config_from_args(parser.parse_args(["live"])).audio is None
    monkeypatch.setattr("livestyle.commands.live.default_device", lambda: "alsa:default")
    bare = config_from_args(parser.parse_args(["live", "--audio", "--headless"]))
    assert bare.audio == "alsa:default" and bare.headless


def test_no_default_microphone_is_one_line_error(monkeypatch, capsys):
    monkeypatch.setattr("livestyle.commands.live.default_device", lambda: None)
    assert main(["live", "--headless", "--audio"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--audio" in err and "dshow:audio=NAME" in err
