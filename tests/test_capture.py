import threading
import time

import cv2
import numpy as np
import pytest

from livestyle.core.errors import SourceError
from livestyle.live.capture import CaptureThread
from livestyle.live.slot import Frame, LatestSlot
from livestyle.video.demo import DemoSource
from livestyle.video.sources import open_source

from .fakes import DemoClip, wait_for
from .media import write_video


@pytest.fixture
def clip(tmp_path):
    frames, fps = 15, 30.0
    return write_video(tmp_path / "clip.mp4", frames, fps), frames, fps


def test_latest_slot_newest_wins_and_drops_are_counted():
    slot: LatestSlot[int] = LatestSlot()
    assert slot.put(1) is False
    assert slot.put(2) is True  # 1 was never taken
    assert slot.get(0) == 2
    assert slot.get(0.01) is None
    assert slot.dropped == 1


def test_latest_slot_under_fast_producer():
    slot: LatestSlot[int] = LatestSlot()
    taken: list[int] = []
    n = 5000

    def produce():
        for i in range(n):
            slot.put(i)
        slot.close()

    producer = threading.Thread(target=produce)
    producer.start()
    while True:
        item = slot.get(0.5)
        if item is None and slot.exhausted():
            break
        if item is not None:
            taken.append(item)
            time.sleep(0.0005)  # a slow consumer
    producer.join()
    assert taken == sorted(taken) and len(set(taken)) == len(taken)
    assert taken[-1] == n - 1  # the newest frame is never lost
    assert len(taken) + slot.dropped == n  # every frame is either taken or counted as dropped
    assert slot.dropped > 0


def test_closed_slot_wakes_consumer():
    slot: LatestSlot[int] = LatestSlot()
    threading.Timer(0.05, slot.close).start()
    began = time.monotonic()
    assert slot.get(5.0) is None
    assert time.monotonic() - began < 2.0 and slot.exhausted()


def test_demo_source_moves_and_needs_no_files():
    demo = DemoSource(160, 120, fps=30)
    a, b = demo.read(), demo.read()
    assert a.shape == (120, 160, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b).mean() > 0.1


def test_video_file_is_paced_at_its_frame_rate(clip):
    path, frames, fps = clip
    source = open_source(str(path))
    assert source.fps == pytest.approx(fps)
    slot: LatestSlot[Frame] = LatestSlot()
    got: list[Frame] = []
    thread = CaptureThread(source, slot)
    began = time.monotonic()
    thread.start()
    while not slot.exhausted():
        frame = slot.get(0.2)
        if frame is not None:
            got.append(frame)
    elapsed = time.monotonic() - began
    assert thread.captured == frames
    assert elapsed >= (frames - 1) / fps * 0.9  # not faster than real time
    assert [f.pts for f in got] == pytest.approx([f.index / fps for f in got])


def test_loop_repeats_a_file_with_continuous_timestamps(clip):
    path, frames, fps = clip
    slot: LatestSlot[Frame] = LatestSlot()
    source = open_source(str(path))
    thread = CaptureThread(source, slot, loop=True, max_frames=frames * 2 + 3)
    thread.start()
    last = None
    while not slot.exhausted():
        frame = slot.get(0.2)
        if frame is not None:
            last = frame
    assert thread.captured == frames * 2 + 3
    assert last.pts == pytest.approx((frames * 2 + 2) / fps)


@pytest.mark.parametrize("ending", ["stop", "end of file", "max frames", "error"])
def test_capture_thread_closes_its_source_however_it_ends(ending):
    source = DemoClip(
        frames=5 if ending == "end of file" else None, fail_at=5 if ending == "error" else None
    )
    thread = CaptureThread(source, LatestSlot(), max_frames=5 if ending == "max frames" else None)
    thread.start()
    if ending == "stop":
        wait_for(lambda: thread.captured >= 3, what="frames")
        thread.stop()
    thread.join(5)
    assert not thread.is_alive() and source.closes == 1
    assert (thread.error is not None) == (ending == "error")
    assert thread.slot.closed  # the consumer hears of the end too


@pytest.mark.parametrize(
    "spec, message",
    [
        ("/no/such/clip.mp4", "no such file"),
        ("7", "no camera at index 7"),
    ],
)
def test_bad_sources_raise_one_line_errors(spec, message):
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_unreadable_video_file(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is no video")
    with pytest.raises(SourceError, match="not a readable video"):
        open_source(str(bad))


def test_frame_colour_conversions(tmp_path):
    # A grayscale video still yields BGR frames.
    path = tmp_path / "gray.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24), False)
    for i in range(3):
        writer.write(np.full((24, 32), i * 50, np.uint8))
    writer.release()
    frame = open_source(str(path)).read()
    assert frame.shape == (24, 32, 3)
