"""MP4 files after they are written: cut a crashed file back to its last whole fragment,
count what it holds, and copy a fragmented file into an ordinary one with its index first.

Recordings are written as fragmented MP4 (livestyle.video.writer): every second a fragment
with its own small index (moof) and its frames (mdat). A file cut off at any byte (a crash,
a power cut, a full disk) plays up to its last whole fragment; `trim_to_fragments` removes
the torn one after it, so browsers, which are stricter than ffmpeg, play it too.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

MOV_SUFFIXES = {".mp4", ".m4v", ".mov"}  # ISO media files: these helpers apply


def boxes(path: Path) -> Iterator[tuple[bytes, int, int]]:
    """The top-level boxes of an ISO media file as (type, start, end) byte offsets, up to
    the first one that does not fit in the file (a torn write) or makes no sense."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        start = 0
        while start + 8 <= size:
            f.seek(start)
            length, kind = struct.unpack(">I4s", f.read(8))
            if length == 1:  # a 64-bit size follows the type
                if start + 16 > size:
                    return
                (length,) = struct.unpack(">Q", f.read(8))
            elif length == 0:  # "to the end of the file": only a last mdat says that
                length = size - start
            if length < 8 or start + length > size:
                return
            yield kind, start, start + length
            start += length


def whole_fragments_end(path: Path) -> int:
    """Where the file's whole boxes end, with a fragment's index (moof) that lost its
    frames (mdat) left out."""
    end = 0
    last_moof_start: int | None = None
    for kind, start, stop in boxes(path):
        if kind == b"moof":
            last_moof_start = start
        elif kind == b"mdat":
            last_moof_start = None
        end = stop
    return last_moof_start if last_moof_start is not None else end


def is_fragmented(path: Path) -> bool:
    return any(kind == b"moof" for kind, _start, _stop in boxes(path))


def trim_to_fragments(path: Path) -> int:
    """Cut `path` after its last whole fragment; returns the bytes cut (0 for a whole file).
    Shortening a file frees disk space, so this works on a full disk too."""
    size = path.stat().st_size
    end = whole_fragments_end(path)
    if 0 < end < size:
        os.truncate(path, end)
        log.debug("%s: cut %d bytes of a torn fragment at its end", path, size - end)
        return size - end
    return 0


def frames_and_seconds(path: Path) -> tuple[int, float]:
    """How many video frames the file holds and the time they span (from their timestamps);
    (0, 0.0) for a file PyAV cannot read."""
    try:
        import av
    except ImportError:  # the mp4v fallback's world: the container's own claims
        return _opencv_count(path)
    frames, first, last = 0, None, None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return 0, 0.0
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue  # the flush packet at the end
                frames += 1
                pts = float(packet.pts * stream.time_base)
                first = pts if first is None else min(first, pts)
                last = pts if last is None else max(last, pts)
            rate = float(stream.average_rate or 30)
    except (OSError, av.FFmpegError, ValueError) as exc:
        log.debug("cannot count the frames of %s: %s", path, exc)
        return frames, 0.0
    seconds = (last - first + 1.0 / rate) if first is not None and last is not None else 0.0
    return frames, seconds


def _opencv_count(path: Path) -> tuple[int, float]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        frames = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if capture.isOpened() else 0
        fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    finally:
        capture.release()
    return max(frames, 0), max(frames, 0) / fps


def faststart_copy(source: Path, target: Path) -> None:
    """Copy the streams of `source` into `target` as an ordinary MP4 with its index at the
    front (a browser starts playing before the whole file is there). No re-encoding:
    packets are copied as they are, so this is fast and loses nothing."""
    import av

    options = {"movflags": "+faststart"}
    with av.open(str(source)) as src, av.open(str(target), "w", options=options) as dst:
        streams = [s for s in src.streams if s.type in ("video", "audio")]
        copies = {s.index: dst.add_stream_from_template(s) for s in streams}
        for stream in streams:  # the source's clock: times copy exactly, not rounded
            copies[stream.index].time_base = stream.time_base
        for packet in src.demux(*streams):
            if packet.dts is None:
                continue  # the flush packet at the end of each stream
            packet.stream = copies[packet.stream.index]
            dst.mux(packet)
