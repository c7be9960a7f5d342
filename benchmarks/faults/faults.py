"""What a recording keeps when its process is stopped or its disk fills: `live` and `stylize`
x SIGINT / SIGTERM / SIGKILL / a disk filled by another program (benchmarks/RESULTS.md,
"Nothing lost").

Each case runs the real command with the installed styles, lets it work for --seconds
(stylize: --stylize-seconds) after its file appears, then does the fault: a signal, or
another process filling the small RAM disk (tmpfs, root only) the file is written to. Then
it reports how long the run had been recording, what is left on disk (the finished name,
else the partial one), how many frames FFmpeg (PyAV) decodes from it and the time they span,
what headless Chromium makes of it (reads its whole length, decodes its first frame, seeks
to its end) and the last line the command printed on stderr. After a SIGKILL of `live` the
app is started again over the folder, and the recording it recovers is what is measured.

    sudo python benchmarks/faults/faults.py                 # every case (disk full needs root)
    python benchmarks/faults/faults.py --cases live:SIGKILL stylize:SIGTERM
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av

REPO = Path(__file__).resolve().parents[2]
CLIP = REPO.parent / "shared" / "clips" / "tears_of_steel_clip01.mp4"
COMMANDS = ("live", "stylize")
FAULTS = ("SIGINT", "SIGTERM", "SIGKILL", "disk full")
RAM_DISK_MB = 64
PAGE = """<html><body><script>
const v = document.createElement('video'); v.muted = true;
const said = [];
const say = (s) => { said.push(s); document.body.setAttribute('data-result', said.join(', ')); };
v.onerror = () => say('error ' + (v.error && v.error.code));
v.onloadeddata = () => {
  say('loads ' + v.duration.toFixed(1) + ' s');
  v.currentTime = Math.max(0, v.duration - 0.1);
};
v.onseeked = () => say('shows its end');
v.onsuspend = () => { if (v.buffered.length) say('reads ' + v.buffered.end(0).toFixed(1) + ' s'); };
v.src = new URLSearchParams(location.search).get('src');
document.body.appendChild(v);
</script></body></html>"""


@dataclass
class Row:
    command: str
    fault: str
    recorded_s: float  # live: wall time recording before the fault; stylize: frames made / fps
    kept: str  # the file left, relative to the run's folder
    frames: int
    seconds: float
    browser: str
    exit_code: int
    message: str


def decoded(path: Path) -> tuple[int, float]:
    """Frames FFmpeg decodes, and the time from the first one's start to the last one's end."""
    times: list[float] = []
    rate = 30.0
    with contextlib.suppress(av.FFmpegError, OSError), av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 30)
        for frame in container.decode(stream):
            times.append(float(frame.pts * frame.time_base))
    return len(times), (max(times) - min(times) + 1 / rate) if times else 0.0


def in_browser(path: Path) -> str:
    """What headless Chromium makes of the file: it loads it (first frame decoded, duration
    known), seeks to its end and shows that frame. A few tries: its virtual clock may stop
    before the media pipeline answers; that is 'no answer', never a false 'plays'."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return "(no chromium)"
    best = "no answer"
    for budget in (5000, 10000, 20000, 40000):
        with tempfile.TemporaryDirectory() as folder:
            page = Path(folder) / "play.html"
            page.write_text(PAGE)
            dom = subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
                + ["--disable-background-networking", "--disable-component-update"]
                + ["--allow-file-access-from-files", f"--user-data-dir={folder}/profile"]
                + [f"--virtual-time-budget={budget}", "--dump-dom"]
                + [f"file://{page}?src=file://{path.resolve()}"],
                capture_output=True,
                text=True,
                timeout=120,
            ).stdout
        found = re.search(r'data-result="([^"]*)"', dom)
        if found:
            best = found.group(1)
            if "shows its end" in best or "error" in best:
                break
    return best


@contextlib.contextmanager
def ram_disk(size_mb: int) -> Iterator[Path]:
    """A small tmpfs another program can fill (root only)."""
    folder = Path(tempfile.mkdtemp(prefix="livestyle-faults-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(folder)])
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)])
        folder.rmdir()


def fill(folder: Path) -> None:
    """Another program takes every free byte of the disk."""
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={folder / 'filler.bin'}", "bs=1M"],
        capture_output=True,
    )


def command_line(command: str, target: Path) -> list[str]:
    base = [sys.executable, "-m", "livestyle"]
    if command == "live":
        return [*base, "live", "--headless", "--source", "demo-scene", "--record", str(target)]
    return [*base, "stylize", str(CLIP), "--style", "starry_night", "-o", str(target)]


def wait_for_file(folder: Path, proc: subprocess.Popen, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if any(folder.glob("*.mp4")):  # made at the first frame (outputs.partial_path)
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError(f"no recording appeared in {folder}")


def last_progress(stderr: str) -> int:
    """The last frame count tqdm printed ('  123/240 [')."""
    counts = re.findall(r"(\d+)/\d+ \[", stderr)
    return int(counts[-1]) if counts else 0


def recover_in(folder: Path) -> str:
    """Start the app again over the folder a SIGKILL left a recording in: it finishes it."""
    again = subprocess.run(
        [sys.executable, "-m", "livestyle", "live", "--headless", "--source", "demo"]
        + ["--max-frames", "1", "--out-dir", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = [line for line in again.stderr.splitlines() if "recovered" in line]
    return said[-1] if said else "(nothing recovered)"


def run_case(command: str, fault: str, folder: Path, seconds: float) -> Row:
    # Named as the window names R recordings, which a later start recovers after a crash.
    target = folder / ("livestyle-take.mp4" if command == "live" else "take.mp4")
    proc = subprocess.Popen(
        command_line(command, target), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started = wait_for_file(folder, proc)
    time.sleep(seconds)
    faulted = time.monotonic()
    if fault == "disk full":
        fill(folder)
        if command == "live":
            time.sleep(3.0)  # the live view goes on; then the user quits
            proc.send_signal(signal.SIGINT)
    else:
        proc.send_signal(getattr(signal, fault))
    _out, err = proc.communicate(timeout=300)
    (folder / "filler.bin").unlink(missing_ok=True)
    recovered = recover_in(folder) if command == "live" and fault == "SIGKILL" else None
    partial = target.with_name(f"{target.stem}.partial.mp4")
    kept = next((p for p in (target, partial) if p.exists()), None)
    frames, span = decoded(kept) if kept else (0, 0.0)
    # live: wall time recording; stylize: frames made before the fault at the clip's 24 fps
    recorded = faulted - started if command == "live" else last_progress(err) / 24.0
    lines = [line for line in err.splitlines() if line.startswith("livestyle:")]
    lines = [line for line in lines if "holds" in line] or lines  # what is kept, if said
    if recovered is not None:
        lines = [f"(next start) {recovered}"]
    return Row(
        command,
        fault,
        recorded,
        kept.name if kept else "(none)",
        frames,
        span,
        in_browser(kept) if kept else "-",
        proc.returncode,
        lines[-1] if lines else "",
    )


def table(rows: list[Row]) -> str:
    head = (
        "| command | fault | recorded before it (s) | file left | frames decoded | "
        "seconds in it | Chromium | exit | last message |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    body = [
        f"| {r.command} | {r.fault} | {r.recorded_s:.1f} | {r.kept} | {r.frames} | "
        f"{r.seconds:.1f} | {r.browser} | {r.exit_code} | {r.message.replace('|', '/')} |"
        for r in rows
    ]
    return "\n".join([head, *body])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="live: recording before it")
    parser.add_argument(
        "--stylize-seconds", type=float, default=30.0, help="stylize: working before the fault"
    )
    parser.add_argument("--cases", nargs="*", help="command:fault pairs (default: all)")
    args = parser.parse_args()
    cases = [(c, f) for c in COMMANDS for f in FAULTS]
    if args.cases:
        cases = [tuple(case.split(":", 1)) for case in args.cases]  # type: ignore[misc]
    rows = []
    for command, fault in cases:
        if fault == "disk full" and os.geteuid() != 0:
            print(f"skipping {command}:{fault}: mounting a RAM disk needs root", file=sys.stderr)
            continue
        with contextlib.ExitStack() as stack:
            if fault == "disk full":
                folder = stack.enter_context(ram_disk(RAM_DISK_MB))
            else:
                folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            seconds = args.seconds if command == "live" else args.stylize_seconds
            rows.append(run_case(command, fault, folder, seconds))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
