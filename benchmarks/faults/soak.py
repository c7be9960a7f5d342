"""Soak run: the headless live pipeline for a long time, looking for slow leaks.

Runs the demo source through random-weight lite styles with recording on, swaps the style
every few seconds and starts a new recording every so often, and samples resident memory,
thread counts and queue depths. Exits 1 (and says why) when, after warm-up, memory grew by
more than a small bound, a thread outlived the pipeline, a thread failed, or a recording
holds a different number of frames than its recorder wrote or does not span the stream time
its recorder wrote (frames carry their own times: a held picture is not repeated).

    python benchmarks/faults/soak.py                    # 10 minutes
    python benchmarks/faults/soak.py --duration 30      # what CI runs
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import torch

from livestyle.discovery import load_styles, scan_styles
from livestyle.live.pipeline import Pipeline
from livestyle.live.recorder import Recorder
from livestyle.model import VARIANTS, TransformerNet
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import StyleInfo, save_style

STYLE_NAMES = ("soak-a", "soak-b", "soak-c")


@dataclass
class Sample:
    at: float  # seconds since the pipeline started
    rss_mb: float
    py_threads: int
    os_threads: int
    slot: int  # frames waiting in the capture slot (0 or 1)
    rec_queue: int  # frames waiting in the recorder's queue
    captured: int
    stylized: int
    dropped: int
    written: int
    style: str


@dataclass
class Verdict:
    problems: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def proc_status(field: str) -> int:
    """A number from /proc/self/status (Linux): VmRSS in KiB, Threads as a count."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_mb() -> float:
    try:
        return proc_status("VmRSS") / 1024
    except (OSError, KeyError):  # not Linux: psutil if it happens to be installed
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def os_threads() -> int:
    try:
        return proc_status("Threads")
    except (OSError, KeyError):
        return threading.active_count()


def make_styles(folder: Path) -> Path:
    """Random-weight lite styles, enough to swap between."""
    for order, name in enumerate(STYLE_NAMES):
        torch.manual_seed(order)
        net = TransformerNet(VARIANTS["lite"])
        info = StyleInfo(name, net.config, title=name, licence="test weights", order=order)
        save_style(folder / f"{name}.lite.safetensors", net, info)
    return folder


def video_timing(path: Path) -> tuple[int, float]:
    """Frames OpenCV decodes from path (counted by reading them all), and the time from the
    first frame to the last."""
    capture = cv2.VideoCapture(str(path))
    count = 0
    first = last = 0.0
    while capture.grab():
        last = capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        first = last if count == 0 else first
        count += 1
    capture.release()
    return count, last - first


# --- checks (pure functions, unit-tested in tests/test_soak.py) ---
def check_memory(samples: list[Sample], warmup_s: float, max_growth_mb: float) -> list[str]:
    after = [s for s in samples if s.at >= warmup_s]
    if len(after) < 2:
        return [f"too short to judge memory: {len(after)} samples after {warmup_s:.0f} s warm-up"]
    base = after[0].rss_mb
    peak = max(s.rss_mb for s in after)
    if peak - base > max_growth_mb:
        return [
            f"memory grew {peak - base:.1f} MB after warm-up ({base:.1f} -> {peak:.1f} MB), "
            f"bound {max_growth_mb:g} MB"
        ]
    return []


def check_threads(py_before: int, py_after: int, os_warm: int, os_after: int) -> list[str]:
    """Python threads must be back to where they were; OS threads must not exceed the count
    during the run (torch's pool stays, so the start is not the baseline for those)."""
    problems = []
    if py_after != py_before:
        problems.append(f"Python threads: {py_before} before the run, {py_after} after it")
    if os_after > os_warm:
        problems.append(f"OS threads: {os_warm} while running, {os_after} after stopping")
    return problems


def check_recording(recorder: Recorder, frames_in_file: int, span_in_file: float) -> list[str]:
    """The file holds what the recorder wrote, and that spans first..last stream time (to
    within a frame: the mp4v fallback puts frames on a fixed clock)."""
    name = recorder.path.name
    if recorder.error:
        return [f"{name}: {recorder.error}"]
    if recorder.first_pts is None or recorder.last_pts is None:
        return [f"{name}: received no frames"]
    span = recorder.last_pts - recorder.first_pts
    problems = []
    if frames_in_file != recorder.frames_written:
        problems.append(
            f"{name}: file has {frames_in_file} frames, recorder wrote {recorder.frames_written}"
        )
    if abs(span_in_file - span) > 1.0 / recorder.fps:
        problems.append(f"{name}: file spans {span_in_file:.2f} s, its frames {span:.2f} s")
    return problems


# --- the run ---
def build_pipeline(args: argparse.Namespace, styles_dir: Path) -> Pipeline:
    styles = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    if len(styles) < 2:
        raise SystemExit(f"soak: need at least two styles in {styles_dir}")
    stylizer = Stylizer(styles, "cpu", "fp32")
    return Pipeline(DemoSource(args.width, args.height, fps=args.fps), stylizer)


def sample(pipeline: Pipeline, began: float) -> Sample:
    recorder = pipeline.recorder
    return Sample(
        at=time.monotonic() - began,
        rss_mb=rss_mb(),
        py_threads=threading.active_count(),
        os_threads=os_threads(),
        slot=pipeline.slot.pending,
        rec_queue=recorder.queue_depth if recorder else 0,
        captured=pipeline.capture.captured,
        stylized=pipeline.stats.stylized,
        dropped=pipeline.dropped,
        written=sum(r.frames_written for r in pipeline.recordings),
        style=pipeline.stylizer.active.name,
    )


def drive(pipeline: Pipeline, args: argparse.Namespace, out_dir: Path) -> list[Sample]:
    """Run for args.duration: swap styles, rotate recordings, take samples."""
    began = time.monotonic()
    samples: list[Sample] = []
    next_swap = args.swap_every
    next_segment = args.segment or float("inf")
    next_sample = 0.0
    segment = 0
    pipeline.start_recording(out_dir / f"soak-{segment:03d}.mp4")
    pipeline.start()
    while (now := time.monotonic() - began) < args.duration:
        if pipeline.error is not None:
            break
        if now >= next_swap:
            pipeline.stylizer.step(1)
            next_swap += args.swap_every
        if now >= next_segment:
            segment += 1
            pipeline.stop_recording()
            pipeline.start_recording(out_dir / f"soak-{segment:03d}.mp4")
            next_segment += args.segment
        if now >= next_sample:
            samples.append(sample(pipeline, began))
            next_sample += args.interval
        time.sleep(0.05)
    samples.append(sample(pipeline, began))
    return samples


def judge(
    pipeline: Pipeline,
    samples: list[Sample],
    args: argparse.Namespace,
    threads: tuple[int, int, int],
) -> Verdict:
    py_before, py_after, os_after = threads
    warmup = args.warmup if args.warmup is not None else min(60.0, args.duration / 4)
    running = [s for s in samples if s.at >= warmup] or samples
    problems = check_memory(samples, warmup, args.max_growth_mb)
    problems += check_threads(py_before, py_after, max(s.os_threads for s in running), os_after)
    if pipeline.error is not None:
        problems.append(f"pipeline failed: {pipeline.error!r}")
    if pipeline.stats.stylized == 0:
        problems.append("no frame was stylized")
    notes = []
    for recorder in pipeline.recordings:
        frames, span = video_timing(recorder.path)
        problems += check_recording(recorder, frames, span)
        notes.append(
            f"{recorder.path.name}: {frames} frames over {span:.1f} s in the file, "
            f"{recorder.frames_written} written, {recorder.frames_received} received, "
            f"{recorder.skipped} skipped, {recorder.dropped} dropped"
        )
    return Verdict(problems, notes)


def print_table(samples: list[Sample], max_rows: int = 41) -> None:
    """Every sample, or evenly spaced ones (always the last) when there are many."""
    step = max(1, -(-(len(samples) - 1) // (max_rows - 1)))
    shown = samples[::step] if (len(samples) - 1) % step == 0 else [*samples[::step], samples[-1]]
    header = (
        f"{'t (s)':>7} {'RSS MB':>7} {'py thr':>6} {'OS thr':>6} {'slot':>4} {'rec q':>5} "
        f"{'captured':>8} {'stylized':>8} {'dropped':>7} {'written':>7}  style"
    )
    print(header)
    for s in shown:
        print(
            f"{s.at:7.1f} {s.rss_mb:7.1f} {s.py_threads:6d} {s.os_threads:6d} {s.slot:4d} "
            f"{s.rec_queue:5d} {s.captured:8d} {s.stylized:8d} {s.dropped:7d} {s.written:7d}  "
            f"{s.style}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=600.0, help="seconds (default 600)")
    p.add_argument("--interval", type=float, default=None, help="seconds between samples")
    p.add_argument("--swap-every", type=float, default=3.0, help="seconds between style swaps")
    p.add_argument(
        "--segment", type=float, default=None, help="seconds per recording (0: one recording)"
    )
    p.add_argument("--warmup", type=float, default=None, help="default: min(60, duration/4)")
    p.add_argument("--max-growth-mb", type=float, default=25.0, help="RSS growth allowed")
    p.add_argument("--width", type=int, default=160)
    p.add_argument("--height", type=int, default=120)
    p.add_argument("--fps", type=float, default=15.0)
    p.add_argument("--styles-dir", type=Path, default=None, help="default: random styles")
    p.add_argument("--out-dir", type=Path, default=None, help="keep the recordings here")
    args = p.parse_args(argv)
    if args.interval is None:
        args.interval = min(5.0, max(1.0, args.duration / 20))
    if args.segment is None:
        args.segment = max(10.0, args.duration / 5)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="soak: %(message)s")
    torch.set_num_threads(min(2, torch.get_num_threads()))
    with tempfile.TemporaryDirectory(prefix="livestyle-soak-") as tmp:
        styles_dir = args.styles_dir or make_styles(Path(tmp))
        out_dir = args.out_dir or Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        py_before = threading.active_count()
        pipeline = build_pipeline(args, styles_dir)
        try:
            samples = drive(pipeline, args, out_dir)
        finally:
            pipeline.stop()
        threads = (py_before, threading.active_count(), os_threads())
        verdict = judge(pipeline, samples, args, threads)
    print_table(samples)
    print(pipeline.summary())
    for note in verdict.notes:
        print(f"  {note}")
    first, last = samples[0], samples[-1]
    peak_rss = max(s.rss_mb for s in samples)
    print(
        f"RSS {first.rss_mb:.1f} -> {last.rss_mb:.1f} MB (peak {peak_rss:.1f}),"
        f" Python threads {threads[0]} before / {threads[1]} after,"
        f" OS threads {max(s.os_threads for s in samples)} peak / {threads[2]} after,"
        f" deepest queues: slot {max(s.slot for s in samples)},"
        f" recorder {max(s.rec_queue for s in samples)} ({len(samples)} samples)"
    )
    for problem in verdict.problems:
        print(f"soak: FAIL: {problem}", file=sys.stderr)
    print("soak: ok" if verdict.ok else "soak: FAILED")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
