"""`livestyle stylize` on videos: H.264 out, the source's frame times and sound kept."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest

from livestyle.commands.stylize import stylize_video
from livestyle.stylizer import Stylizer
from livestyle.video import writer as video_writer

from .media import video_frames, write_clip_with_tone, write_video

av = pytest.importorskip("av", reason="PyAV makes the clips with sound and reads them back")

STEADY = [i / 30 for i in range(30)]  # one second at 30 fps
AAC_FRAME = 1024 / 44100  # AAC codes sound in 1024-sample packets


def streams(path: Path) -> dict[str, dict]:
    """Per stream type: codec, frames (or audio packets) and decoded times or seconds."""
    found: dict[str, dict] = {}
    with av.open(str(path)) as container:
        for stream in container.streams:
            found[stream.type] = {"codec": stream.codec_context.name, "packets": []}
        for packet in container.demux():
            if packet.size:
                found[packet.stream.type]["packets"].append(bytes(packet))
    with av.open(str(path)) as container:
        if container.streams.video:
            found["video"]["times"] = [float(f.time) for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        if container.streams.audio:
            rate = container.streams.audio[0].rate
            samples = sum(f.samples for f in container.decode(audio=0))
            found["audio"]["seconds"] = samples / rate
    return found


@pytest.fixture(autouse=True)
def fresh_warnings():
    video_writer._warned.clear()
    yield
    video_writer._warned.clear()


def test_aac_sound_is_copied_as_it_is(stylizer: Stylizer, tmp_path: Path) -> None:
    clip = write_clip_with_tone(tmp_path / "tone.mp4", STEADY, "aac")
    out = tmp_path / "out.mp4"
    assert stylize_video(stylizer, clip, out).frames == 30
    source, result = streams(clip), streams(out)
    assert result["video"]["codec"] == "h264"
    assert len(result["video"]["times"]) == 30 == len(video_frames(out))
    assert result["audio"]["codec"] == "aac"
    assert result["audio"]["packets"] == source["audio"]["packets"]  # remuxed, not re-encoded
    assert result["audio"]["seconds"] == pytest.approx(source["audio"]["seconds"], abs=0.05)


def test_other_sound_becomes_aac(stylizer: Stylizer, tmp_path: Path) -> None:
    clip = write_clip_with_tone(tmp_path / "tone.mov", STEADY, "pcm_s16le")
    out = tmp_path / "out.mp4"
    assert stylize_video(stylizer, clip, out).frames == 30
    result = streams(out)
    assert result["audio"]["codec"] == "aac" and streams(clip)["audio"]["codec"] == "pcm_s16le"
    assert result["audio"]["seconds"] == pytest.approx(1.0, abs=0.05)
    assert len(result["video"]["times"]) == 30


def test_frames_keep_the_source_times(stylizer: Stylizer, tmp_path: Path) -> None:
    # A phone-like clip: frames at irregular times, one held for half a second.
    times = [0.0, 0.04, 0.1, 0.6, 0.633, 0.7]
    clip = write_clip_with_tone(tmp_path / "vfr.mp4", times, audio_codec=None)
    out = tmp_path / "out.mp4"
    assert stylize_video(stylizer, clip, out).frames == 6
    result = streams(out)
    assert "audio" not in result
    assert result["video"]["times"] == pytest.approx(times, abs=0.002)


def test_video_without_sound_still_works(stylizer: Stylizer, tmp_path: Path) -> None:
    clip = write_video(tmp_path / "clip.mp4", frames=12, fps=30.0)
    out = tmp_path / "out.mp4"
    assert stylize_video(stylizer, clip, out).frames == 12
    result = streams(out)
    assert set(result) == {"video"} and result["video"]["codec"] == "h264"
    assert result["video"]["times"] == pytest.approx([i / 30 for i in range(12)], abs=0.002)


def test_interrupted_stylize_keeps_sound_only_as_long_as_the_picture(
    stylizer: Stylizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = write_clip_with_tone(tmp_path / "tone.mp4", STEADY, "aac")
    real = Stylizer.stylize
    calls: list[int] = []

    def interrupt_at_9(self: Stylizer, frame: np.ndarray, index: int | None = None):
        calls.append(1)
        if len(calls) > 9:
            raise KeyboardInterrupt
        return real(self, frame, index)

    monkeypatch.setattr(Stylizer, "stylize", interrupt_at_9)
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyboardInterrupt):
        stylize_video(stylizer, clip, out)
    assert not out.exists()  # not the whole video: it keeps its partial name
    result = streams(tmp_path / "out.partial.mp4")
    assert len(result["video"]["times"]) == 9
    # Sound to the end of the ninth frame (0.3 s), give or take one AAC packet.
    assert result["audio"]["seconds"] == pytest.approx(0.3, abs=AAC_FRAME + 0.01)


def test_without_pyav_the_video_is_mp4v_without_sound_and_says_so(
    stylizer: Stylizer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    clip = write_clip_with_tone(tmp_path / "tone.mp4", STEADY, "aac")
    monkeypatch.setitem(sys.modules, "av", None)
    caplog.set_level(logging.WARNING, logger="livestyle")
    out = tmp_path / "out.mp4"
    assert stylize_video(stylizer, clip, out).frames == 30
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "mp4v" in warning and "without sound" in warning
    monkeypatch.undo()
    result = streams(out)
    assert set(result) == {"video"} and result["video"]["codec"] == "mpeg4"
    assert len(video_frames(out)) == 30
