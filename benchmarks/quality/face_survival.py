"""Do faces survive the style? OpenCV's Haar frontal-face detector on frames of two
talking-head clips: of the frames where it finds a face in the original, the share where it
finds it again (overlapping it) in the stylized frame, per style, as the app shows it live on
a CPU (the network at 320 px divided by the style's stroke scale, guided upscaling).

A detector trained on photographs is a strict reader: a face a person still reads may be
lost to it under heavy brushwork, so the numbers compare networks, they are not a verdict.

Run, in the benchmark's environment (OpenCV 5 moved the Haar detector out of the main
package, so that environment keeps `opencv-python-headless<5`, which livestyle accepts):
    bench/bin/pip install "opencv-python-headless<5"
    bench/bin/python benchmarks/quality/face_survival.py [STYLE_FILE ...] [--frames 40] [--marks 0]
(default: the shipped lite file; several files give one column each, for before/after.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from livestyle.discovery import PACKAGE_WEIGHTS_DIR
from livestyle.model import style_views
from livestyle.sizing import CPU_LIVE_INFER_SIZE, NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.weights import load_network

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "clips"
CLIPS = ("grid_bbaf2n.mpg", "grid_swiz3n.mpg")  # talking heads (tests and benchmarks only)
FRAME_LONG_SIDE = 640  # each frame scaled to a webcam's size first
MIN_OVERLAP = 0.3  # intersection over union of a found face with the original's


def faces(detector: cv2.CascadeClassifier, bgr: np.ndarray) -> list[tuple[int, ...]]:
    grey = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    return [tuple(f) for f in detector.detectMultiScale(grey, 1.1, 5, minSize=(60, 60))]


def overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


def frames_with_faces(detector: cv2.CascadeClassifier, count: int) -> list[tuple]:
    """(frame, its face) pairs spread over the clips, frames where the original has one."""
    found = []
    per_clip = max(1, count // len(CLIPS))
    for name in CLIPS:
        capture = cv2.VideoCapture(str(SHARED / name))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 75
        wanted = set(np.linspace(0, total - 1, per_clip * 2).astype(int))  # spare for misses
        index, taken = 0, 0
        while taken < per_clip:
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                scale = FRAME_LONG_SIDE / max(frame.shape[:2])
                frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                original = faces(detector, frame)
                if original:
                    found.append((frame, max(original, key=lambda f: f[2] * f[3])))
                    taken += 1
            index += 1
    return found


def survival(
    path: Path, samples: list[tuple], infer_size: int, detector, marks: float = 0.0
) -> dict[str, float]:
    net, infos = load_network(path)
    infos = sorted(infos, key=lambda info: info.index or 0)
    styles = list(zip(style_views(net), infos, strict=True))
    size = NetworkSize(infer_size, per_style_strokes=True)
    stylizer = Stylizer(styles, "cpu", "fp32", network_size=size, marks=marks)
    rates = {}
    for index, info in enumerate(infos):
        kept = 0
        for frame, face in samples:
            stylized = stylizer.stylize(frame, index).image
            kept += any(overlap(face, f) >= MIN_OVERLAP for f in faces(detector, stylized))
        rates[info.name] = kept / len(samples)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--infer-size", type=int, default=CPU_LIVE_INFER_SIZE)
    parser.add_argument("--marks", type=float, default=0.0, help="livestyle's --marks")
    args = parser.parse_args()
    files = args.files or [PACKAGE_WEIGHTS_DIR / "paintings.lite.safetensors"]
    if not all((SHARED / name).is_file() for name in CLIPS):
        raise SystemExit(f"needs the talking-head clips in {SHARED}")
    if not hasattr(cv2, "CascadeClassifier"):
        raise SystemExit(f"OpenCV {cv2.__version__} has no Haar detector: see this file's doc")
    detector = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    samples = frames_with_faces(detector, args.frames)
    columns = [survival(path, samples, args.infer_size, detector, args.marks) for path in files]
    print(f"{len(samples)} frames with a face; network at {args.infer_size} px / stroke scale")
    print("| style | " + " | ".join(path.name for path in files) + " |")
    print("| --- |" + " ---: |" * len(files))
    for name in columns[0]:
        cells = " | ".join(f"{column.get(name, float('nan')):.0%}" for column in columns)
        print(f"| {name} | {cells} |")
    means = " | ".join(f"{np.mean(list(column.values())):.1%}" for column in columns)
    print(f"| mean | {means} |")


if __name__ == "__main__":
    main()
