import cv2
import numpy as np
import pytest

from livestyle.errors import OutputError
from livestyle.recording import Recorder


class ListWriter:
    """Keeps written frames in memory; can fail after a number of frames (a full disk)."""

    def __init__(self, fail_after=None):
        self.frames = []
        self.released = False
        self.fail_after = fail_after

    def __call__(self, path, fps, size):
        self.size = size
        return self

    def write(self, frame):
        if self.fail_after is not None and len(self.frames) >= self.fail_after:
            raise OSError(28, "No space left on device")
        self.frames.append(frame)

    def release(self):
        self.released = True


def frame(value, size=(8, 6)):
    return np.full((size[1], size[0], 3), value, np.uint8)


def test_pacing_fills_gaps_and_skips_early_frames(tmp_path):
    writer = ListWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, writer_factory=writer)
    rec.start()
    # stream times: 0, 0.1, (gap) 0.4, 0.41 (early, same slot), 0.5
    for value, pts in [(1, 0.0), (2, 0.1), (3, 0.4), (4, 0.41), (5, 0.5)]:
        rec.submit(frame(value), pts)
    rec.finish()
    assert [int(f[0, 0, 0]) for f in writer.frames] == [1, 2, 2, 2, 3, 5]
    assert writer.released and rec.frames_written == 6


def test_full_queue_drops_and_counts_never_blocks(tmp_path):
    writer = ListWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, queue_size=2, writer_factory=writer)
    # Not started: nothing drains the queue.
    results = [rec.submit(frame(i), i / 10) for i in range(5)]
    assert results == [True, True, False, False, False] and rec.dropped == 3
    rec.start()
    rec.finish()
    assert len(writer.frames) == 2


def test_failing_writer_stops_recording_and_finalizes(tmp_path):
    writer = ListWriter(fail_after=3)
    errors = []
    rec = Recorder(tmp_path / "a.mp4", fps=10, writer_factory=writer, on_error=errors.append)
    rec.start()
    for i in range(10):
        rec.submit(frame(i), i / 10)
    rec.join(5)
    assert writer.released and len(writer.frames) == 3
    assert rec.error and "No space left" in rec.error and errors == [rec.error]
    assert rec.submit(frame(0), 2.0) is False  # no more frames accepted


def test_real_file_has_expected_frames_size_and_rate(tmp_path):
    path = tmp_path / "real.mp4"
    rec = Recorder(path, fps=25)
    rec.start()
    for i in range(25):
        rec.submit(frame(i * 10, (64, 48)), i / 25)
    rec.finish()
    video = cv2.VideoCapture(str(path))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 25
    assert video.get(cv2.CAP_PROP_FPS) == pytest.approx(25)
    ok, first = video.read()
    assert ok and first.shape == (48, 64, 3)


def test_frames_of_another_size_are_resized(tmp_path):
    writer = ListWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, writer_factory=writer)
    rec.start()
    rec.submit(frame(1, (8, 6)), 0.0)
    rec.submit(frame(2, (16, 12)), 0.1)
    rec.finish()
    assert [f.shape for f in writer.frames] == [(6, 8, 3), (6, 8, 3)]


def test_unwritable_folder_is_refused_up_front(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        Recorder(tmp_path / "missing" / "a.mp4", fps=10)
