"""The live pipeline: capture thread -> inference thread -> (display, recorder thread,
virtual camera thread).

No stage waits on a slower one: capture overwrites a latest-frame slot, inference hands its
result to the display through a callback that must not block, to the recorder through a
bounded queue that drops (and counts) when full, and to the virtual camera through another
latest-frame slot. While the window's style strip shows, the inference thread also makes one
style's thumbnail after each frame, for thumbnail sinks (livestyle.live.thumbnails). The
live session (livestyle.live.session, the window's) and headless mode both drive this
class; neither knows about threads.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from livestyle.core.outputs import new_file_in
from livestyle.live.adaptive import SizeGovernor
from livestyle.live.audio import default_device
from livestyle.live.capture import CaptureThread
from livestyle.live.inference import InferenceThread, Stats, StylizedFrame
from livestyle.live.recorder import (
    Recorder,
    WriterFactory,
    open_video_writer,
    timestamped_name,
)
from livestyle.live.slot import Frame, LatestSlot
from livestyle.live.thumbnails import Thumbnail
from livestyle.live.virtualcam import CameraFactory, VirtualCamSink, open_virtual_camera
from livestyle.stylizer import Stylizer
from livestyle.video.sources import FrameSource

log = logging.getLogger(__name__)


# At exit, how long to wait for recordings to finish writing their files (all together).
SAVE_TIMEOUT_S = 10.0


class Pipeline:
    """Owns the threads of a live session and the recording, and reports their state."""

    def __init__(
        self,
        source: FrameSource,
        stylizer: Stylizer,
        *,
        loop: bool = False,
        max_frames: int | None = None,
        out_dir: Path = Path("."),
        record_fps: float | None = None,
        writer_factory: WriterFactory = open_video_writer,
        on_frame: Callable[[StylizedFrame], None] | None = None,
        open_camera: CameraFactory = open_virtual_camera,
        steady: bool = True,
        overwrite: bool = False,
        governor: SizeGovernor | None = None,
        audio: str | None = None,
    ) -> None:
        self.source = source
        # Recordings have sound from `audio` (FFmpeg's FORMAT:NAME) while audio_on; M
        # switches it for the next recording, to the platform's default without --audio.
        self.audio_device = audio or default_device()
        self.audio_on = audio is not None
        self.overwrite = overwrite  # a recording to a named file may replace it (--overwrite)
        self.stylizer = stylizer
        self.out_dir = Path(out_dir)
        self.record_fps = record_fps or source.fps
        self.writer_factory = writer_factory
        self.stats = Stats()
        # Messages for the overlay by who set them, so the camera coming back does not wipe
        # a recording error: "camera lost, retrying", "recording to X stopped: disk full"...
        # Every key exists from the start: threads only replace values, never resize the dict.
        self._status = dict.fromkeys(
            ("capture", "inference", "recording", "sound", "virtualcam"), ""
        )
        self.slot: LatestSlot[Frame] = LatestSlot()
        self.recorder: Recorder | None = None
        self.recordings: list[Recorder] = []
        self._recorder_lock = threading.Lock()
        # At the camera's rate; its thread starts the first time it is switched on.
        self.virtual_cam = VirtualCamSink(
            source.fps,
            open_camera=open_camera,
            on_error=lambda message: self._set_status("virtualcam", message),
        )
        self._virtual_cam_lock = threading.Lock()
        sinks = [self._to_recorder, self._to_virtual_cam] + ([on_frame] if on_frame else [])
        self.capture = CaptureThread(
            source,
            self.slot,
            loop=loop,
            max_frames=max_frames,
            on_status=lambda message: self._set_status("capture", message),
        )
        self.inference = InferenceThread(
            self.slot,
            stylizer,
            sinks,
            self.stats,
            on_status=lambda message: self._set_status("inference", message),
            steady=steady,
            governor=governor,  # None: the network's size is pinned
        )
        # The stylizer's own notices (a graph it could not capture) go to the overlay too.
        stylizer.on_notice = self.inference.on_status
        self._started = False
        self._stopped = False

    def _set_status(self, origin: str, message: str) -> None:
        self._status[origin] = message

    @property
    def status(self) -> str:
        """Transient messages for the overlay, empty when all is well."""
        return "; ".join(m for m in self._status.values() if m)

    # --- lifecycle ---
    def start(self) -> None:
        self.stats.started_at = time.monotonic()
        # Safety net: a crash in the main thread still stops the threads and finalizes the
        # recording when the interpreter exits (an MP4 without its index is unplayable).
        atexit.register(self.stop)
        self.capture.start()
        self.inference.start()
        with self._virtual_cam_lock:
            self._started = True
            self._launch_virtual_cam()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop every thread and finalize the recording; safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        self.capture.stop()
        self.inference.stop()
        self.virtual_cam.stop()  # its thread closes the camera
        deadline = time.monotonic() + timeout
        for thread in (self.capture, self.inference, self.virtual_cam):
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))
        self.stop_recording()
        # Stopped, failed or still saving: every file is finalized before we go.
        saved_by = time.monotonic() + SAVE_TIMEOUT_S
        for recorder in self.recordings:
            if recorder.is_alive():
                recorder.join(max(0.0, saved_by - time.monotonic()))
        # The capture thread closes the source once its last read() has returned, even if
        # that is after the join above gave up; only a thread that never ran leaves it to us.
        if self.capture.ident is None:
            self.source.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the source to end and inference to drain; True if it did."""
        self.inference.join(timeout)
        return not self.inference.is_alive()

    @property
    def running(self) -> bool:
        return self.inference.is_alive()

    @property
    def error(self) -> BaseException | None:
        return self.capture.error or self.inference.error

    @property
    def error_log(self) -> Path | None:
        """The file holding the traceback of `error`, else of the last failed recording's;
        None for a user error (its one line says it all) or when the log could not be written.
        """
        for thread in (self.capture, self.inference):
            if thread.error is not None:
                return thread.error_log
        failed = [r for r in self.recordings if r.error]
        return failed[-1].error_log if failed else None

    @property
    def threads(self) -> list[threading.Thread]:
        started = [self.virtual_cam] if self.virtual_cam.ident is not None else []
        return [self.capture, self.inference, *self.recordings, *started]

    def add_sink(self, sink: Callable[[StylizedFrame], None]) -> None:
        """Also hand every stylized frame to `sink`, called on the inference thread: it must
        not block. For displays built after the pipeline (the window); call before start()."""
        self.inference.sinks.append(sink)

    def add_thumbnail_sink(self, sink: Callable[[Thumbnail], None]) -> None:
        """Also hand every style-strip thumbnail to `sink` (inference thread, must not block)."""
        self.inference.thumbnail_sinks.append(sink)

    # --- controls ---
    def toggle_pause(self) -> bool:
        self.inference.paused = not self.inference.paused
        return self.inference.paused

    @property
    def paused(self) -> bool:
        return self.inference.paused

    @property
    def steady(self) -> bool:
        """Steady video (livestyle.steady): smoothed over time where the picture stands still."""
        return self.inference.steady

    @steady.setter
    def steady(self, on: bool) -> None:
        self.inference.steady = bool(on)

    def show_thumbnails(self, on: bool) -> None:
        """Make the style strip's thumbnails (one style per frame) or stop making them."""
        self.inference.thumbnails.show(on)

    @property
    def thumbnails_on(self) -> bool:
        return self.inference.thumbnails.on

    @property
    def adapting(self) -> bool:
        """The network's size follows the machine (livestyle.live.adaptive), not pinned."""
        return self.inference.adapting

    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def start_recording(self, path: str | Path | None = None) -> Path:
        """Record to `path` (an existing file only with `overwrite`), else to a new
        timestamped file in out_dir."""
        with self._recorder_lock:
            if self.recorder is not None:
                return self.recorder.path
            target = Path(path) if path else new_file_in(self.out_dir, timestamped_name())
            recorder = Recorder(
                target,
                self.record_fps,
                writer_factory=self.writer_factory,
                overwrite=self.overwrite and path is not None,
                audio=self.audio_device if self.audio_on else None,
                on_notice=lambda message: self._set_status("sound", message),
            )
            # Bound to this recorder: its error may arrive after the user moved on to another.
            recorder.on_error = functools.partial(self._recording_failed, recorder)
            recorder.start()
            self.recorder = recorder
            self.recordings.append(recorder)
            self._set_status("recording", "")  # a new recording clears the last one's error
            self._set_status("sound", "")
            return recorder.path

    def stop_recording(self, wait: bool = False) -> Path | None:
        """Stop the recording; the recorder thread finalizes the file (see `saving`).

        Returns at once unless `wait`, so a window's thread never waits for a file.
        """
        with self._recorder_lock:
            recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        if wait:
            recorder.finish()
        else:
            recorder.stop()
        return recorder.path

    @property
    def saving(self) -> list[Path]:
        """Recordings that were stopped and are still being written and finalized."""
        return [r.path for r in self.recordings if r.saving]

    def _recording_failed(self, recorder: Recorder, message: str) -> None:
        self._set_status("recording", message)
        with self._recorder_lock:
            # The thread finalizes what it wrote; live view goes on. A recording that failed
            # after it was stopped is no longer current: the one that is must go on.
            if self.recorder is recorder:
                self.recorder = None

    def _to_recorder(self, frame: StylizedFrame) -> None:
        recorder = self.recorder
        if recorder is not None:
            recorder.submit(frame.stylized, frame.pts, frame.captured_at)

    def toggle_audio(self) -> bool:
        """Sound on or off for the next recording; True when on. It stays off where there
        is no device to turn on (Windows names its microphone: --audio)."""
        self.audio_on = not self.audio_on and self.audio_device is not None
        return self.audio_on

    @property
    def virtual_cam_on(self) -> bool:
        return self.virtual_cam.on

    def start_virtual_cam(self) -> None:
        """Send the stylized stream to the virtual camera (before start() too). Returns at
        once: the camera opens on the next frame, and if it cannot, `status` says why."""
        self._set_status("virtualcam", "")  # a new try clears the last one's error
        with self._virtual_cam_lock:
            self.virtual_cam.switch_on()
            self._launch_virtual_cam()

    def stop_virtual_cam(self) -> None:
        """Stop sending; the sink's thread closes the camera. Returns at once."""
        self.virtual_cam.switch_off()

    def toggle_virtual_cam(self) -> bool:
        """Switch the virtual camera on or off; True when it was switched on. Not its state
        read again: a device that fails at once may already have switched it off, and that
        failure is said by itself (on_error)."""
        if self.virtual_cam_on:
            self.stop_virtual_cam()
            return False
        self.start_virtual_cam()
        return True

    def _launch_virtual_cam(self) -> None:
        """The sink's thread runs from the first switch-on of a started pipeline to stop()."""
        sink = self.virtual_cam
        if sink.on and self._started and not self._stopped and sink.ident is None:
            sink.start()

    def _to_virtual_cam(self, frame: StylizedFrame) -> None:
        self.virtual_cam.submit(frame.stylized)

    # --- reporting ---
    @property
    def dropped(self) -> int:
        """Frames captured but never stylized (overwritten in the slot, or skipped in pause)."""
        return self.slot.dropped + self.inference.paused_dropped

    @property
    def recording_error(self) -> str | None:
        """Why the last recording that failed stopped, if one did."""
        failed = [r.error for r in self.recordings if r.error]
        return failed[-1] if failed else None

    @property
    def recorder_dropped(self) -> int:
        return sum(r.dropped for r in self.recordings)

    def summary(self) -> str:
        stats = self.stats
        parts = [
            f"captured {self.capture.captured}",
            f"stylized {stats.stylized}",
            f"dropped {self.dropped}",
            f"{stats.run_fps:.1f} fps",
            f"inference {stats.percentile(stats.inference_ms, 50):.1f} ms",
            f"latency p50 {stats.percentile(stats.latency_ms, 50):.1f} ms"
            f" p95 {stats.percentile(stats.latency_ms, 95):.1f} ms",
        ]
        governor = self.inference.governor
        if governor is not None and self.adapting and governor.long_side != governor.top:
            parts.append(f"network size {governor.long_side} px (adapted from {governor.top})")
        written = [r for r in self.recordings if r.frames_written]
        if written:
            frames = sum(r.frames_written for r in written)
            parts.append(f"recorded {frames} frames to {', '.join(str(r.path) for r in written)}")
            if self.recorder_dropped:
                parts.append(f"recorder dropped {self.recorder_dropped}")
            heard = [r.sound for r in written if r.with_sound and r.sound is not None]
            if heard:
                parts.append(f"with sound from {heard[0].device}")
                if dropped := sum(sound.dropped for sound in heard):
                    parts.append(f"sound dropped {dropped} blocks")
        if self.virtual_cam.sent:
            parts.append(f"virtual camera sent {self.virtual_cam.sent}")
            if self.virtual_cam.dropped:
                parts.append(f"virtual camera dropped {self.virtual_cam.dropped}")
        return ", ".join(parts)
