"""Median Stylizer frame time (640x480 demo, network at 320 px, CPU) over two halves of 100
frames: run it several times to see the spread between processes (RESULTS.md, run E).

Run: python benchmarks/probes/onnx_session_timing.py
"""

from __future__ import annotations

from livestyle.bench.timing import time_calls
from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource


def main() -> None:
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="lite"))
    stylizer = Stylizer(styles, "cpu", network_size=NetworkSize(320))
    source = DemoSource(640, 480)
    frames = [source.read() for _ in range(10)]
    timing = time_calls(lambda i: stylizer.stylize(frames[i % 10]), runs=100, warmup=3)
    halves = (timing.part(0, 50).median_ms, timing.part(50).median_ms)
    print(f"median ms per frame: {halves[0]:.1f}, then {halves[1]:.1f}")


if __name__ == "__main__":
    main()
