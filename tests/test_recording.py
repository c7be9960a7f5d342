import logging
import sys
from fractions import Fraction

import cv2
import numpy as np
import pytest

from livestyle.core.errors import OutputError
from livestyle.live.recorder import Recorder
from livestyle.video import writer as video_writer
from livestyle.video.writer import TIME_BASE, OpenCVWriter, PyAVWriter, open_video_writer

from .fakes import BlockedWriter, ListWriter, solid_frame
from .media import video_frames


@pytest.fixture(autouse=True)
def fresh_warnings():
    """Each test sees the writers' once-per-process warnings afresh."""
    video_writer._warned.clear()
    yield
    video_writer._warned.clear()


def test_frames_keep_their_times_and_late_duplicates_are_skipped(tmp_path):
    writer = ListWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, writer_factory=writer)
    rec.start()
    # stream times: a gap from 0.1 to 0.4 is not filled; 0.4 again and 0.35 add nothing new
    for value, pts in [(1, 5.0), (2, 5.1), (3, 5.4), (4, 5.4), (5, 5.35), (6, 5.5)]:
        rec.submit(solid_frame(value), pts)
    rec.finish()
    assert [int(f[0, 0, 0]) for f in writer.frames] == [1, 2, 3, 6]
    assert writer.times == pytest.approx([0.0, 0.1, 0.4, 0.5])
    assert writer.released and rec.finalized.is_set()
    assert (rec.frames_received, rec.frames_written, rec.skipped) == (6, 4, 2)
    assert (rec.first_pts, rec.last_pts) == (5.0, 5.5)


def test_full_queue_drops_and_counts_never_blocks(tmp_path):
    writer = ListWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, queue_size=2, writer_factory=writer)
    # Not started: nothing drains the queue.
    results = [rec.submit(solid_frame(i), i / 10) for i in range(5)]
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
        rec.submit(solid_frame(i), i / 10)
    rec.join(5)
    assert writer.released and len(writer.frames) == 3
    assert rec.error and "No space left" in rec.error and errors == [rec.error]
    assert rec.submit(solid_frame(0), 2.0) is False  # no more frames accepted


def test_stop_returns_at_once_and_the_thread_finalizes(tmp_path):
    writer = BlockedWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, writer_factory=writer)
    rec.start()
    for i in range(3):
        rec.submit(solid_frame(i), i / 10)
    rec.stop()  # the writer cannot finish yet: stop must not wait for it
    assert rec.submit(solid_frame(9), 1.0) is False  # stopped: takes no more frames
    assert writer.releasing.wait(10) and rec.saving and not rec.finalized.is_set()
    writer.let_go.set()
    assert rec.finalized.wait(10)
    rec.join(5)
    assert not rec.saving and writer.released and len(writer.frames) == 3


def test_frames_of_another_size_are_resized(tmp_path):
    writer = ListWriter()
    rec = Recorder(tmp_path / "a.mp4", fps=10, writer_factory=writer)
    rec.start()
    rec.submit(solid_frame(1, (8, 6)), 0.0)
    rec.submit(solid_frame(2, (16, 12)), 0.1)
    rec.finish()
    assert [f.shape for f in writer.frames] == [(6, 8, 3), (6, 8, 3)]


def test_unwritable_folder_is_refused_up_front(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        Recorder(tmp_path / "missing" / "a.mp4", fps=10)


# --- real files ---
def decode(path):
    """(codec, pixel format, size, frame times in seconds) of path's video, through PyAV."""
    av = pytest.importorskip("av")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = [float(f.time) for f in container.decode(stream)]
        context = stream.codec_context
        return context.name, context.pix_fmt, (context.width, context.height), times


def test_real_file_is_h264_with_the_frames_own_times(tmp_path):
    pytest.importorskip("av")
    path = tmp_path / "real.mp4"
    rec = Recorder(path, fps=25)
    rec.start()
    # A live stream: irregular times, a long hold (0.4 s) and a repeated time.
    times = [0.0, 0.04, 0.07, 0.12, 0.52, 0.52, 0.55, 0.61]
    for i, pts in enumerate(times):
        rec.submit(solid_frame(i * 25, (64, 48)), 10.0 + pts)
    rec.finish()
    codec, pix_fmt, size, decoded = decode(path)
    assert (codec, pix_fmt, size) == ("h264", "yuv420p", (64, 48))
    unique = sorted(set(times))
    assert rec.frames_written == len(unique) == len(decoded) == len(video_frames(path))
    assert decoded == pytest.approx(unique, abs=float(TIME_BASE))
    head = path.read_bytes()[:4096]
    assert b"moov" in head and head.index(b"moov") < path.read_bytes().index(b"mdat")


def test_odd_sizes_are_cropped_to_even(tmp_path):
    pytest.importorskip("av")
    path = tmp_path / "odd.mp4"
    writer = PyAVWriter(path, 30, (65, 49))
    picture = np.zeros((49, 65, 3), np.uint8)
    picture[:, 64] = 255  # the last column, the one that goes
    assert writer.write(picture, 0.0) == 1
    writer.release()
    _, _, size, decoded = decode(path)
    assert size == (64, 48) and len(decoded) == 1
    assert video_frames(path)[0].max() < 40  # no trace of the white column


def test_the_next_h264_encoder_is_tried_when_one_does_not_open(tmp_path, monkeypatch):
    pytest.importorskip("av")
    monkeypatch.setattr(video_writer, "H264_ENCODERS", ("no_such_h264", "libx264"))
    writer = open_video_writer(tmp_path / "a.mp4", 30, (16, 16))
    assert isinstance(writer, PyAVWriter)
    assert writer.stream.codec_context.name == "libx264"
    writer.release()


def write_with_fallback(path, caplog):
    rec = Recorder(path, fps=10)
    rec.start()
    for i, pts in enumerate([0.0, 0.1, 0.4, 0.5]):  # a gap: mp4v's fixed rate fills it
        rec.submit(solid_frame(i * 50, (32, 24)), pts)
    rec.finish()
    assert rec.error is None
    return rec


@pytest.mark.parametrize("cause", ["no PyAV", "no encoder opens"])
def test_opencv_mp4v_fallback_with_one_warning_line(tmp_path, monkeypatch, caplog, cause):
    if cause == "no PyAV":
        monkeypatch.setitem(sys.modules, "av", None)  # `import av` fails
    else:
        pytest.importorskip("av")
        monkeypatch.setattr(video_writer, "H264_ENCODERS", ("no_such_h264",))
    caplog.set_level(logging.WARNING, logger="livestyle")
    first = write_with_fallback(tmp_path / "a.mp4", caplog)
    second = write_with_fallback(tmp_path / "b.mp4", caplog)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "mp4v" in warnings[0].getMessage()
    assert ("not installed" if cause == "no PyAV" else "no_such_h264") in warnings[0].getMessage()
    for rec in (first, second):
        video = cv2.VideoCapture(str(rec.path))
        fourcc = int(video.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
        video.release()
        assert fourcc == "FMP4" or fourcc.lower() == "mp4v"
        assert rec.frames_written == 6 == len(video_frames(rec.path))  # 0,1,(2,3 held),4,5


def test_opencv_writer_paces_onto_its_fixed_rate(tmp_path):
    writer = OpenCVWriter(tmp_path / "a.mp4", 10, (8, 6))
    shown = [(60, 0.0), (120, 0.1), (180, 0.4), (240, 0.41)]
    added = [writer.write(solid_frame(value), time) for value, time in shown]
    writer.release()
    assert added == [1, 1, 3, 0]  # the gap holds picture 2; 0.41 falls in a filled slot
    decoded = [float(f.mean()) for f in video_frames(tmp_path / "a.mp4")]
    assert decoded == pytest.approx([60, 120, 120, 120, 180], abs=8)


def test_writer_refuses_times_that_do_not_advance(tmp_path):
    pytest.importorskip("av")
    writer = PyAVWriter(tmp_path / "a.mp4", 30, (16, 16))
    tick = float(TIME_BASE)
    added = [writer.write(solid_frame(0, (16, 16)), t) for t in (0.0, 0.2, 0.2 + tick / 3, 0.1)]
    writer.release()
    assert added == [1, 1, 0, 0]
    assert decode(tmp_path / "a.mp4")[3] == pytest.approx([0.0, 0.2], abs=tick)


def test_time_base_is_exact_for_common_rates():
    for fps in (24, 25, 30, 50, 60):
        assert (Fraction(1, fps) / TIME_BASE).denominator == 1
