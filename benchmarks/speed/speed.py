"""Run `livestyle bench` for benchmarks/RESULTS.md and print a ready-to-paste section.

    python benchmarks/speed/speed.py --max-load 1.5 --wait 900 -- --compare-peer --sizes 640x480

Everything after `--` goes to `livestyle bench`. Other work on a small machine (a training
run, a test suite) skews timings, so this waits up to --wait seconds for the 1-minute load
average to fall under --max-load, then records the date, CPU model, core count, versions and
the load before and after, with the exact command and the bench's tables.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path


def first_line(command: list[str], prefix: str = "") -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    except OSError:
        return "unknown"
    for line in out.splitlines():
        if line.strip().startswith(prefix):
            return line.split(":", 1)[1].strip() if prefix else line.strip()
    return "unknown"


def versions() -> str:
    code = (
        "import torch, platform; v = [f'python {platform.python_version()}', "
        "f'torch {torch.__version__}']\n"
        "try:\n import onnxruntime; v.append(f'onnxruntime {onnxruntime.__version__}')\n"
        "except ImportError: v.append('onnxruntime not installed')\n"
        "print(', '.join(v))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def wait_for_quiet(max_load: float, wait: float) -> float:
    """Wait until the 1-minute load average is under max_load (or time runs out)."""
    deadline = time.monotonic() + wait
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        time.sleep(15)
    return os.getloadavg()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-load", type=float, default=1.5, help="wait for load under this")
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait at most")
    parser.add_argument("--out", type=Path, default=None, help="also write the section here")
    parser.add_argument("bench", nargs=argparse.REMAINDER, help="-- then livestyle bench options")
    args = parser.parse_args()
    bench_args = args.bench[1:] if args.bench[:1] == ["--"] else args.bench
    load = wait_for_quiet(args.max_load, args.wait)
    command = ["livestyle", "bench", *bench_args]
    cpu = f"{first_line(['lscpu'], 'Model name')}, {os.cpu_count()} cores ({platform.machine()})"
    header = [
        f"- date: {first_line(['date'])}",
        f"- machine: {cpu}, GPU: {gpu_name() or 'none'}",
        f"- versions: {versions()}",
        f"- load before: {first_line(['uptime'])} (waited for 1-min load < {args.max_load}: "
        f"{'yes' if load < args.max_load else 'no, ran anyway'})",
        f"- command: `{shlex.join(command)}`",
    ]
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "livestyle", "bench", *bench_args],
        capture_output=True,
        text=True,
        check=False,
    )
    header.append(f"- load after: {first_line(['uptime'])}; took {time.monotonic() - began:.0f} s")
    section = "\n".join(header) + "\n\n" + result.stdout
    print(section)
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
    if args.out is not None:
        args.out.write_text(section)
    return result.returncode


def gpu_name() -> str:
    """The CUDA device's name, or '' without one."""
    code = "import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else '')"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return run.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
