"""OS threads that a Stylizer with every installed style adds, with N torch threads (ONNX
Runtime sessions get N - 1): N = 16 stands for a 16-core desktop. Linux only (/proc).

Run: python benchmarks/probes/onnx_threads.py 16
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

from livestyle.discovery import default_style_dirs, load_styles, scan_styles
from livestyle.stylizer import Stylizer


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]))
    styles = load_styles(scan_styles(default_style_dirs(), prefer_variant="lite"))
    before = os_threads()
    stylizer = Stylizer(styles, "cpu")
    stylizer.stylize(np.zeros((48, 64, 3), np.uint8))
    print(f"{len(styles)} styles, {sys.argv[1]} torch threads: {before} -> {os_threads()} threads")


if __name__ == "__main__":
    main()
