"""Median Stylizer frame time (640x480 demo, network at 320 px, CPU) over two halves of 100
frames: run it several times to see the spread between processes (RESULTS.md, run E).

Run: python benchmarks/probes/onnx_session_timing.py
"""

from __future__ import annotations

import statistics
import time

from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource
from livestyle.weights import default_style_dirs, load_styles, scan_styles


def main() -> None:
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="lite"))
    stylizer = Stylizer(styles, "cpu", infer_size=320)
    source = DemoSource(640, 480)
    frames = [source.read() for _ in range(10)]
    for frame in frames[:3]:
        stylizer.stylize(frame)
    times = []
    for i in range(100):
        began = time.perf_counter()
        stylizer.stylize(frames[i % 10])
        times.append((time.perf_counter() - began) * 1000)
    halves = (statistics.median(times[:50]), statistics.median(times[50:]))
    print(f"median ms per frame: {halves[0]:.1f}, then {halves[1]:.1f}")


if __name__ == "__main__":
    main()
