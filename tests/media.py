"""Test media the tests make themselves: random-weight styles and small generated videos."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from livestyle.model import VARIANTS, TransformerNet
from livestyle.weights import StyleInfo, save_network, save_style


def write_styles(folder: Path, names=("alpha", "beta", "gamma"), variant="lite") -> Path:
    """Random-weight styles (distinct seeds) with full metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed, name in enumerate(names):
        torch.manual_seed(seed)
        net = TransformerNet(VARIANTS[variant])
        info = StyleInfo(
            name,
            net.config,
            title=f"Painting {name}",
            artist="Test Artist",
            year="1900",
            licence="public domain",
            order=seed,
        )
        save_style(folder / f"{name}.{variant}.safetensors", net, info)
    return folder


def write_network(
    path: Path, names=("red", "green", "blue"), variant="lite", seed: int = 7
) -> Path:
    """A random multi-style network file: shared convolutions, distinct norm rows per style."""
    torch.manual_seed(seed)
    net = TransformerNet(VARIANTS[variant], styles=len(names))
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if ".norm." in name:
                parameter.add_(torch.randn_like(parameter) * 0.5)
    infos = [
        StyleInfo(n, net.config, title=f"Painting {n}", licence="public domain", order=10 + i)
        for i, n in enumerate(names)
    ]
    return save_network(path, net, infos, {"steps": 1})


def rewrite_style(path: Path, source: Path, edit_config: Callable[[dict], None]) -> Path:
    """Save source's tensors to path with its metadata's network config edited."""
    with safe_open(str(source), framework="pt") as f:
        meta = f.metadata()
    config = json.loads(meta["config"])
    edit_config(config)
    save_file(load_file(str(source)), str(path), metadata={**meta, "config": json.dumps(config)})
    return path


def write_video(path: Path, frames: int = 20, fps: float = 30.0, size=(64, 48)) -> Path:
    """A clip with a moving square on a gradient, so consecutive frames differ."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    ramp = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
    for i in range(frames):
        frame = np.broadcast_to(ramp, (height, width, 3)).copy()
        x = (i * 3) % (width - 10)
        frame[10:20, x : x + 10] = (40, 200, 240)
        writer.write(frame)
    writer.release()
    return path


def video_frames(path: Path) -> list[np.ndarray]:
    """Every frame OpenCV can decode from path (an unfinalized MP4 gives none)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def write_clip_with_tone(
    path: Path,
    times: list[float],
    audio_codec: str | None = "aac",
    seconds: float = 1.0,
    size=(64, 48),
    rate: int = 44100,
) -> Path:
    """A clip made with PyAV: MPEG-4 video frames at `times` (seconds), and a 440 Hz tone of
    `seconds` in `audio_codec` (None: no sound)."""
    import av  # only the tests that make sound need PyAV

    width, height = size
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4")
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.time_base = video.time_base = Fraction(1, 1000)
        audio = container.add_stream(audio_codec, rate=rate) if audio_codec else None
        if audio is not None:
            audio.layout = "mono"
            tone = np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 0.3
            sound_format = audio.codec_context.format.name  # s16 for PCM, fltp for AAC
            if sound_format == "s16":
                samples = (tone * 32767).astype(np.int16)
            else:
                samples = tone.astype(np.float32)
            sound = av.AudioFrame.from_ndarray(samples[None], format=sound_format, layout="mono")
            sound.sample_rate, sound.pts = rate, 0
            for packet in audio.encode(sound):
                container.mux(packet)
            for packet in audio.encode(None):
                container.mux(packet)
        ramp = np.linspace(0, 255, width, dtype=np.uint8)[None, :, None]
        for i, time in enumerate(times):
            picture = np.broadcast_to(ramp, (height, width, 3)).copy()
            picture[10:20, (i * 3) % (width - 10) :][:, :10] = (40, 200, 240)
            frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
            frame.pts, frame.time_base = round(time * 1000), Fraction(1, 1000)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode(None):
            container.mux(packet)
    return path


def recording_has_frames(recording: Path) -> bool:
    """Encoded frames are in `recording`, or in the partial file beside it (named after it)
    that it is written through until it is finalized."""
    for path in recording.parent.glob(f"{recording.stem}*{recording.suffix}"):
        try:
            if path.stat().st_size > 0:
                return True
        except FileNotFoundError:  # renamed as it was finalized
            continue
    return False


def wait_until_recording(recording: Path, child: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait until `child`, a live run, has frames in `recording`: its pipeline runs and its
    signal handlers are in place. The limit is generous (a busy CPU is slow to start torch and
    a window); the child is killed when it ends or the limit passes first."""
    deadline = time.monotonic() + timeout
    while not recording_has_frames(recording):
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            _, err = child.communicate()
            raise AssertionError(f"no frame recorded to {recording} in {timeout:g} s: {err}")
        time.sleep(0.1)
