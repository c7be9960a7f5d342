"""What a style's own marks (StyleInfo.marks, livestyle.brushwork.amount), its ink
(StyleInfo.ink, livestyle.ink), its own colour gain (StyleInfo.colour) and its dots
(StyleInfo.dots, livestyle.dots) cost a live frame where the network is at its smallest live
size: `Stylizer.stylize` on the demo frame at 640x360 (or WIDTHxHEIGHT) with the network at
160 px (where the live default settles on a 2-core Zen 1 AMD EPYC), the first shipped lite
style as plain, with its own marks 0.4, with ink 1, with ink and colour 1 and with dots 1, in
turn, one OpenCV and one ONNX Runtime thread; the median after ten warm-up frames.

Run: python benchmarks/probes/own_finish_cost.py [FRAMES] [WIDTHxHEIGHT]
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace

import cv2

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.video.demo import DemoSource

FRAME = (640, 360)
NETWORK_SIDE = 160
# What each stylizer's style says of itself, beside its label.
NONE = {"marks": 0.0, "ink": 0.0, "colour": 0.0, "dots": 0.0}
SETTINGS = {
    "plain": NONE,
    "own marks 0.4": {**NONE, "marks": 0.4},
    "ink 1": {**NONE, "ink": 1.0},
    "ink 1, colour 1": {**NONE, "ink": 1.0, "colour": 1.0},
    "dots 1": {**NONE, "dots": 1.0},
}
WARM_UP = 10


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    width, height = map(int, sys.argv[2].split("x")) if len(sys.argv) > 2 else FRAME
    cv2.setNumThreads(1)
    net, info = load_styles(scan_styles([PACKAGE_WEIGHTS_DIR], prefer_variant="lite"))[0]
    size = NetworkSize(NETWORK_SIDE)
    stylizers = {
        label: Stylizer([(net, replace(info, **own))], "cpu", network_size=size, threads=1)
        for label, own in SETTINGS.items()
    }
    frame = cv2.resize(DemoSource(*FRAME).read(), (width, height))
    times: dict[str, list[float]] = {label: [] for label in SETTINGS}
    for _ in range(frames):
        for label, stylizer in stylizers.items():
            began = time.perf_counter()
            stylizer.stylize(frame)
            times[label].append(time.perf_counter() - began)
    for label, values in times.items():
        median = statistics.median(values[WARM_UP:]) * 1e3
        print(f"{info.name} at {width}x{height}, {label}: {median:.2f} ms a frame")


if __name__ == "__main__":
    main()
