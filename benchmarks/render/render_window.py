"""Render docs/window.jpg: the live window, offscreen, in split view with its overlay.

    QT_QPA_PLATFORM=offscreen python benchmarks/render/render_window.py [--style NAME] [--seconds 6]

Plays ../shared/clips/tears_of_steel_clip01.mp4 (CC BY 3.0) when present, else the demo.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtWidgets import QApplication  # noqa: E402

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.live.pipeline import Pipeline  # noqa: E402
from livestyle.live.session import LiveSession  # noqa: E402
from livestyle.sizing import (
    CPU_LIVE_INFER_SIZE,  # noqa: E402
    NetworkSize,
)
from livestyle.stylizer import Stylizer  # noqa: E402
from livestyle.ui.frames import ViewMode  # noqa: E402
from livestyle.ui.window import LiveWindow  # noqa: E402
from livestyle.video.sources import open_source  # noqa: E402

CLIP = Path(__file__).resolve().parents[2].parent / "shared/clips/tears_of_steel_clip01.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--out", type=Path, default=Path("docs/window.jpg"))
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    stylizer = Stylizer(load_styles(scan_styles([PACKAGE_WEIGHTS_DIR], "lite")), "cpu")
    stylizer.select(stylizer.find(args.style))
    stylizer.network_size = NetworkSize(CPU_LIVE_INFER_SIZE)  # what `livestyle` does on a CPU
    source = open_source(str(CLIP) if CLIP.is_file() else "demo")
    session = LiveSession(Pipeline(source, stylizer, loop=True))
    session.view = ViewMode.SPLIT
    window = LiveWindow(session, size=(720, 405))
    window.start()
    window.show()
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    window.grab().save(str(args.out), quality=88)
    window.shutdown()
    print(args.out)


if __name__ == "__main__":
    main()
