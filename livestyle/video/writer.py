"""Video files out: H.264 in MP4 through PyAV, or OpenCV's mp4v where PyAV cannot do that.

Every writer takes BGR frames with their time in seconds from the first frame and says how
many frames it put in the file. The H.264 writer keeps those times (variable frame timing:
a held picture is one frame shown for longer, not repeated copies); the OpenCV fallback has
a fixed frame rate, so it repeats the last picture over a gap and skips early ones, which
keeps a file's duration equal to the time it spans either way.

An MP4 is written fragmented (a small index for every second of frames, each pushed to the
file as it is done) so that a crash or a power cut loses at most the last second or two:
livestyle.video.output turns it into an ordinary MP4 with its index first when it finishes.

Sound goes beside the picture as AAC: a source file's (AudioCopy, for `stylize`) or a live
microphone's (LiveSound, fed by livestyle.live.audio), written up to each frame's time
before the frame, so the file interleaves them and a crash keeps both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import cv2
import numpy as np

from livestyle.core.errors import OutputError
from livestyle.video.mp4 import MOV_SUFFIXES

log = logging.getLogger(__name__)

# MPEG's 90 kHz clock: exact for 24/25/30/50/60 fps and fine-grained for real capture times.
TIME_BASE = Fraction(1, 90000)
# Tried in order; PyAV's PyPI wheels ship libx264, other FFmpeg builds may have OpenH264.
H264_ENCODERS = ("libx264", "libopenh264")
# Live: an encoder that keeps up in real time; no B-frames, because with irregular frame
# times x264's B-frame timestamps make MP4 report too short a duration. No look-ahead
# (zerolatency): each frame is in the file within its fragment's second, so a crash loses
# that second, not also the frames the encoder held back (10-13 of them, seconds at a slow
# machine's frame rate).
LIVE_OPTIONS = {"crf": "21", "preset": "veryfast", "bf": "0", "tune": "zerolatency"}
# `stylize` is not real time: spend more effort for smaller files at the same quality. The
# look-ahead is half medium's 40 frames: frames the encoder holds are not yet in the file, and
# at a CPU's 4-5 frames a second 40 of them were 8 s of work a SIGKILL would lose.
FILE_OPTIONS = {"crf": "20", "preset": "medium", "rc-lookahead": "20"}
# Audio codecs copied as they are: every MP4 player plays them. Anything else becomes AAC.
COPY_AUDIO = {"aac", "mp3"}
AUDIO_CODEC = "aac"
SILENCE_CHUNK_S = 1.0  # a gap in live sound is written as silence this much at a time
# Fragmented MP4: a fragment with its own index every second (and at every keyframe), so
# the file plays up to its last whole fragment whenever it stops. The file's own index is
# written with the first fragment (delay_moov), when the encoder's delay is known: with it
# up front before any frame (empty_moov) B-frames would shift every time by two frames.
FRAGMENTED_MP4 = {
    "movflags": "frag_keyframe+delay_moov+default_base_moof",
    "frag_duration": "1000000",  # microseconds
}
# Matroska plays without its end anyway; a cluster a second keeps what is lost that short.
MATROSKA = {"cluster_time_limit": "1000"}  # milliseconds
KEYFRAME_EVERY_S = 2.0  # seeking in a recovered file, and fragments start on a keyframe
FALLBACK_FOURCC = "mp4v"  # MPEG-4 Part 2: every OpenCV build writes it

_warned: set[str] = set()


class VideoWriter(Protocol):
    def write(self, frame: np.ndarray, time: float) -> int:
        """Add a BGR frame shown from `time` seconds on; returns frames added to the file."""
        ...

    def release(self) -> None: ...


WriterFactory = Callable[..., VideoWriter]  # (path, fps, (width, height), **options)


class SoundFeed(Protocol):
    """Live sound for a recording, time 0 being its first video frame (livestyle.live.audio)."""

    rate: int
    layout: str  # "mono" or "stereo"

    @property
    def ended(self) -> bool:
        """No more sound will come (the device failed or was stopped)."""
        ...

    def take(self, until: float, wait_s: float = 0.0) -> list[tuple[int, np.ndarray]]:
        """(first sample's index, float32 samples (channels, n)) of the blocks that start
        before `until` seconds, in order; with `wait_s`, wait up to that long for them."""
        ...


class AudioTrack(Protocol):
    """A sound stream a PyAVWriter writes beside its frames."""

    def copy_until(self, time: float) -> None: ...
    def finish(self, end: float) -> None: ...
    def close(self) -> None: ...


class H264Unavailable(RuntimeError):
    """PyAV is missing or none of its H.264 encoders opens here."""


def load_av() -> ModuleType:
    try:
        import av
    except ImportError as exc:
        raise H264Unavailable(f"PyAV is not installed ({exc})") from exc
    return av


def warn_once(message: str) -> None:
    """One line per reason per process: a session makes many recordings."""
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


def open_video_writer(
    path: Path,
    fps: float,
    size: tuple[int, int],
    *,
    live: bool = True,
    audio_from: Path | None = None,
    sound: SoundFeed | None = None,
) -> VideoWriter:
    """H.264 in MP4 when PyAV can; otherwise OpenCV's mp4v, saying so once."""
    if path.suffix.lower() == ".avi":  # AVI has no per-frame times: fixed rate it is
        if sound is not None:
            warn_once("AVI recordings have no sound: record to .mp4 or .mkv for sound")
        return OpenCVWriter(path, fps, size)
    options = LIVE_OPTIONS if live else FILE_OPTIONS
    try:
        return PyAVWriter(path, fps, size, options=options, audio_from=audio_from, sound=sound)
    except H264Unavailable as exc:
        dropped = ", without sound" if audio_from is not None or sound is not None else ""
        warn_once(f"{exc}: writing MPEG-4 Part 2 (mp4v) with OpenCV instead of H.264{dropped}")
        return OpenCVWriter(path, fps, size)


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """yuv420p needs even sides: an odd last column or row is cropped (one pixel)."""
    width, height = size
    return max(2, width - width % 2), max(2, height - height % 2)


class OpenCVWriter:
    """cv2.VideoWriter (mp4v, fixed rate) that raises instead of silently writing nothing.

    Frames go on the fixed clock: a gap repeats the last picture, an early frame is skipped.
    """

    def __init__(self, path: Path, fps: float, size: tuple[int, int]) -> None:
        self.path = path
        self.fps = float(fps)
        fourcc = cv2.VideoWriter_fourcc(*FALLBACK_FOURCC)
        self._writer = cv2.VideoWriter(str(path), fourcc, self.fps, size)
        if not self._writer.isOpened():
            raise OutputError(f"cannot write video {path}")
        self.frames = 0
        self._last: np.ndarray | None = None

    def write(self, frame: np.ndarray, time: float) -> int:
        slot = round(time * self.fps)
        if slot < self.frames:
            return 0  # early: its slot is filled already
        added = 0
        while self.frames < slot and self._last is not None:
            added += self._put(self._last)  # a gap (drops, pause, lost camera): hold the picture
        added += self._put(frame)
        self._last = frame
        return added

    def _put(self, frame: np.ndarray) -> int:
        self._writer.write(frame)
        self.frames += 1
        return 1

    def release(self) -> None:
        self._last = None
        self._writer.release()


class PyAVWriter:
    """H.264 (yuv420p, constant rate factor) in MP4 with each frame at its own time."""

    def __init__(
        self,
        path: Path,
        fps: float,
        size: tuple[int, int],
        *,
        options: dict[str, str] = LIVE_OPTIONS,
        audio_from: Path | None = None,
        sound: SoundFeed | None = None,
    ) -> None:
        self.av = load_av()
        self.path = path
        self.size = even_size(size)
        self.frames = 0
        self.frame_s = 1.0 / fps if fps > 0 else 1 / 30  # how long the last frame shows
        self._last_pts: int | None = None
        self.container = self._open_container(path)
        try:
            self.stream = self._open_encoder(fps, options)
            self.audio: AudioTrack | None = None
            if sound is not None:
                self.audio = LiveSound(self.av, sound, self.container)
            elif audio_from is not None:
                self.audio = AudioCopy.open(self.av, audio_from, self.container)
        except BaseException:
            self.container.close()
            path.unlink(missing_ok=True)  # nothing was written: leave no empty file behind
            raise
        log.debug("writing H.264 with %s to %s", self.stream.codec_context.name, path)

    def _open_container(self, path: Path) -> Any:
        suffix = path.suffix.lower()
        options = FRAGMENTED_MP4 if suffix in MOV_SUFFIXES else MATROSKA if suffix == ".mkv" else {}
        # Every packet goes from FFmpeg's buffer to the file at once: a crash loses none.
        options = {**options, "flush_packets": "1"}
        try:
            return self.av.open(str(path), "w", options=options)
        except (OSError, self.av.FFmpegError) as exc:
            raise OutputError(f"cannot write video {path}: {exc}") from exc

    def _open_encoder(self, fps: float, options: dict[str, str]) -> Any:
        """The first H.264 encoder that opens; H264Unavailable when none does."""
        failures = []
        for name in H264_ENCODERS:
            try:
                stream = self.container.add_stream(name)
                context = stream.codec_context
                context.width, context.height = self.size
                context.pix_fmt = "yuv420p"
                context.time_base = stream.time_base = TIME_BASE
                context.framerate = Fraction(fps if fps > 0 else 30.0).limit_denominator(1001)
                context.gop_size = max(1, round(KEYFRAME_EVERY_S * (fps if fps > 0 else 30.0)))
                context.options = dict(options) if name == "libx264" else {}
                context.open()
                return stream
            except (self.av.FFmpegError, ValueError, NotImplementedError) as exc:
                failures.append(f"{name}: {exc}")
        raise H264Unavailable(f"no H.264 encoder opens ({'; '.join(failures)})")

    def write(self, frame: np.ndarray, time: float) -> int:
        pts = round(time / TIME_BASE)
        if self._last_pts is not None and pts <= self._last_pts:
            return 0  # not later than the last frame: MP4 needs strictly increasing times
        width, height = self.size
        if frame.shape[1] != width or frame.shape[0] != height:
            frame = frame[:height, :width]
        picture = self.av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        picture.pts, picture.time_base = pts, TIME_BASE
        if self.audio is not None:
            self.audio.copy_until(time)  # keep sound and picture interleaved in the file
        for packet in self.stream.encode(picture):
            self.container.mux(packet)
        self._last_pts = pts
        self.frames += 1
        return 1

    def release(self) -> None:
        """Flush the encoder and write the index; the file is closed even if that fails."""
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
            if self.audio is not None and self._last_pts is not None:
                # Sound to the end of the last frame, and no further: an interrupted
                # `stylize` gets no minutes of sound over a frozen picture, a live
                # recording none of what was said after its last frame.
                self.audio.finish(float(self._last_pts * TIME_BASE) + self.frame_s)
        finally:
            if self.audio is not None:
                self.audio.close()
            self.container.close()


class AudioCopy:
    """A source's first audio stream into an output container: packets copied as they are
    when MP4 players read the codec, else decoded and encoded to AAC. Times are shifted so
    the source's first video frame is time 0, as it is for the video written beside it."""

    def __init__(self, av: ModuleType, source: Any, container: Any) -> None:
        self.source = source
        self.input = source.streams.audio[0]
        video = source.streams.video
        start = video[0].start_time if video else None
        self.offset = float(start * video[0].time_base) if start is not None else 0.0
        name = self.input.codec_context.name
        self.copy = name in COPY_AUDIO and name in container.supported_codecs
        self.encoder: AacEncoder | None = None
        if self.copy:
            self.output = container.add_stream_from_template(self.input)
        else:
            self.encoder = AacEncoder(container, self.input.rate, self.input.layout)
            self.output = self.encoder.stream
        self.container = container
        self._packets: Iterator[Any] = source.demux(self.input)
        self._pending: Any = None

    @classmethod
    def open(cls, av: ModuleType, path: Path, container: Any) -> AudioCopy | None:
        """None when the source has no sound (or PyAV cannot read it: video only then)."""
        try:
            source = av.open(str(path))
        except (OSError, av.FFmpegError) as exc:
            log.warning("cannot read the sound of %s: %s", path, exc)
            return None
        if not source.streams.audio:
            source.close()
            return None
        try:
            return cls(av, source, container)
        except BaseException:
            source.close()
            raise

    def _next(self) -> Any:
        """The next packet with data (demuxing ends with an empty flush packet)."""
        if self._pending is None:
            for packet in self._packets:
                if packet.size and packet.pts is not None:
                    self._pending = packet
                    break
        return self._pending

    def copy_until(self, time: float, before: bool = False) -> None:
        """Write the sound that starts up to `time` seconds (before it, with `before`)."""
        while (packet := self._next()) is not None:
            start = float(packet.pts * packet.time_base) - self.offset
            if start > time or (before and start >= time):
                return
            self._pending = None
            self._write(packet)

    def finish(self, end: float) -> None:
        """Write the sound that starts before `end` seconds; flush the encoder."""
        self.copy_until(end, before=True)
        if self.encoder is not None:
            self.encoder.flush()

    def close(self) -> None:
        self.source.close()

    def _write(self, packet: Any) -> None:
        shift = round(self.offset / packet.time_base)
        if self.copy:
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self.output
            self.container.mux(packet)
            return
        encoder = self.encoder
        assert encoder is not None  # not copied: decoded and encoded again
        for frame in packet.decode():
            frame.pts = None if frame.pts is None else frame.pts - shift
            encoder.encode(frame)


class AacEncoder:
    """An AAC stream of `container`: frames in, packets muxed as they come out."""

    def __init__(self, container: Any, rate: int, layout: Any) -> None:
        self.container = container
        self.stream = container.add_stream(AUDIO_CODEC, rate=rate)
        self.stream.layout = layout

    def encode(self, frame: Any) -> None:
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def flush(self) -> None:
        self.encode(None)


class LiveSound:
    """A live microphone's sound (a SoundFeed) to AAC from time 0: each block at its own
    sample index, a gap before it written as silence and an overlap cut from it, so the
    stream is continuous and every sample sits where the capture clock put it. Sound
    before time 0 (before the first frame) is cut; a feed that ended leaves silence."""

    def __init__(self, av: ModuleType, feed: SoundFeed, container: Any) -> None:
        self.av = av
        self.feed = feed
        self.rate = feed.rate
        self.layout = feed.layout
        self.channels = 1 if feed.layout == "mono" else 2
        self.encoder = AacEncoder(container, feed.rate, feed.layout)
        self.written = 0  # samples in the stream
        self.time_base = Fraction(1, feed.rate)

    def copy_until(self, time: float) -> None:
        """Write the sound that starts before `time` seconds (silence once the feed ended,
        so the file keeps interleaving and a crash keeps the picture's fragments)."""
        for start, samples in self.feed.take(time):
            self._write(start, samples)
        if self.feed.ended:
            self._silence_until(round(time * self.rate))

    def finish(self, end: float, wait_s: float = 1.0) -> None:
        """Write the sound up to `end` seconds and no further (waiting up to `wait_s` for
        the last of it to arrive), silence where there is none; flush the encoder."""
        stop = round(end * self.rate)
        for start, samples in self.feed.take(end, wait_s):
            self._write(start, samples[:, : max(0, stop - start)])
        self._silence_until(stop)
        self.encoder.flush()

    def close(self) -> None:
        """The feed's device belongs to the recorder, which stops it."""

    def _write(self, start: int, samples: np.ndarray) -> None:
        if start < self.written:  # overlaps what is written (or is before time 0): cut
            samples = samples[:, self.written - start :]
            start = self.written
        if samples.shape[1] == 0:
            return
        self._silence_until(start)
        self._put(samples)

    def _silence_until(self, index: int) -> None:
        chunk = round(SILENCE_CHUNK_S * self.rate)
        while self.written < index:
            self._put(np.zeros((self.channels, min(chunk, index - self.written)), np.float32))

    def _put(self, samples: np.ndarray) -> None:
        frame = self.av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.rate
        frame.pts, frame.time_base = self.written, self.time_base
        self.encoder.encode(frame)
        self.written += samples.shape[1]
