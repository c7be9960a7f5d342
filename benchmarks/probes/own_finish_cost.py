"""What a style's own marks (StyleInfo.marks, livestyle.brushwork.amount) cost a live frame
where the network is at its smallest live size: `Stylizer.stylize` on the demo frame at
640x360 with the network at 160 px (where the live default settles on a 2-core Zen 1 AMD
EPYC), the first shipped lite style with its own marks 0 and 0.4, in turn, one OpenCV and
one ONNX Runtime thread; the median after ten warm-up frames.

Run: python benchmarks/probes/own_marks_cost.py [FRAMES]
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
OWN_MARKS = (0.0, 0.4)
WARM_UP = 10


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    cv2.setNumThreads(1)
    net, info = load_styles(scan_styles([PACKAGE_WEIGHTS_DIR], prefer_variant="lite"))[0]
    size = NetworkSize(NETWORK_SIDE)
    stylizers = {
        marks: Stylizer([(net, replace(info, marks=marks))], "cpu", network_size=size, threads=1)
        for marks in OWN_MARKS
    }
    frame = cv2.resize(DemoSource(*FRAME).read(), FRAME)
    times: dict[float, list[float]] = {marks: [] for marks in OWN_MARKS}
    for _ in range(frames):
        for marks, stylizer in stylizers.items():
            began = time.perf_counter()
            stylizer.stylize(frame)
            times[marks].append(time.perf_counter() - began)
    for marks, values in times.items():
        median = statistics.median(values[WARM_UP:]) * 1e3
        print(f"{info.name}, own marks {marks:g}: {median:.2f} ms a frame")


if __name__ == "__main__":
    main()
