"""Render livestyle/video/footage/demo_face.mp4, the built-in demo (`livestyle --source demo`).

    python benchmarks/render/make_demo_clip.py [--out livestyle/video/footage/demo_face.mp4]

Source: ../shared/clips/tears_of_steel_clip01.mp4, a 10 s, 640x360, 24 fps excerpt of
"Tears of Steel" (2012), (CC) Blender Foundation | mango.blender.org, CC BY 3.0
(https://creativecommons.org/licenses/by/3.0/). Its longest shot with a face, frames 65-184,
is one actor at a console; from frame ~158 on he bows his head over it, so the demo takes
frames 66-157 (2.75-6.58 s), where his face is up and large, and shows:

- crop: x 208-640, y 0-324 (432x324, 4:3: the face, without the console in front of him
  and the other actor on the left), scaled to 480x360 (x1.11, area-averaged);
- a ping-pong loop: the frames forward then backward (the two end frames not repeated), so
  the clip loops with no cut, 182 frames, 7.6 s at the source's 24 fps;
- H.264 (libx264, preset slow, CRF 24, tune film, yuv420p, keyframe every 48 frames), no
  audio, the credit in the file's metadata: about 500 KB.

The excerpt is this project's derived work (cut, cropped, re-encoded), shipped under the
same licence with its credit in livestyle/video/footage/SOURCE.md. Where OpenCV has its Haar
detector (opencv-python < 5), the script also says in how many frames it finds a face.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO.parent / "shared" / "clips" / "tears_of_steel_clip01.mp4"
OUT = REPO / "livestyle" / "video" / "footage" / "demo_face.mp4"
FIRST, LAST = 66, 157  # source frame indices, both kept
CROP = (208, 0, 432, 324)  # x, y, width, height in the 640x360 source
SIZE = (480, 360)
FPS = 24
ENCODER_OPTIONS = {"crf": "24", "preset": "slow", "tune": "film", "g": "48"}
CREDIT = (
    "Excerpt of Tears of Steel (2012), (CC) Blender Foundation | mango.blender.org, "
    "CC BY 3.0 https://creativecommons.org/licenses/by/3.0/ ; cut, cropped, scaled, "
    "looped forward and back, re-encoded for livestyle"
)


def source_frames(path: Path) -> list[np.ndarray]:
    """Frames FIRST..LAST of the source, BGR, counted in decode order from 0."""
    kept = []
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index > LAST:
                break
            if index >= FIRST:
                kept.append(frame.to_ndarray(format="bgr24"))
    if len(kept) != LAST - FIRST + 1:
        raise SystemExit(f"{path}: expected frames {FIRST}-{LAST}, got {len(kept)}")
    return kept


def framed(image: np.ndarray) -> np.ndarray:
    x, y, width, height = CROP
    return cv2.resize(image[y : y + height, x : x + width], SIZE, interpolation=cv2.INTER_AREA)


def ping_pong(frames: list[np.ndarray]) -> list[np.ndarray]:
    """Forward, then back without repeating either end: the last frame leads to the first."""
    return frames + frames[-2:0:-1]


def encode(frames: list[np.ndarray], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), "w") as container:
        container.metadata["comment"] = CREDIT
        stream = container.add_stream("libx264", rate=FPS, options=ENCODER_OPTIONS)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def face_share(path: Path) -> float | None:
    """Share of the clip's frames where Haar's frontal or profile detector finds a face;
    None where this OpenCV has no Haar detector (OpenCV 5 moved it out)."""
    if not hasattr(cv2, "CascadeClassifier"):
        return None
    detectors = [
        cv2.CascadeClassifier(cv2.data.haarcascades + name)
        for name in ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
    ]
    found = total = 0
    capture = cv2.VideoCapture(str(path))
    while True:
        ok, image = capture.read()
        if not ok:
            break
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        total += 1
        found += any(len(d.detectMultiScale(grey, 1.1, 4, minSize=(60, 60))) for d in detectors)
    capture.release()
    return found / max(1, total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not args.source.is_file():
        raise SystemExit(f"needs {args.source} (see ../shared/clips/LICENSES.txt)")
    frames = ping_pong([framed(image) for image in source_frames(args.source)])
    encode(frames, args.out)
    size_kb = args.out.stat().st_size / 1000
    print(f"{args.out}: {len(frames)} frames, {len(frames) / FPS:.1f} s, {size_kb:.0f} KB")
    share = face_share(args.out)
    if share is not None:
        print(f"Haar finds a face in {share:.0%} of its frames")


if __name__ == "__main__":
    main()
