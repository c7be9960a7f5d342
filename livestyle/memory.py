"""How much memory a frame's work takes, how much there is, and the largest size that fits.

A network run at a photo's full size holds every layer's output for every pixel: an
8000x8000 photo would need about 29 GB, and the kernel kills the process (and maybe others)
without a word. So before a large frame is stylized its work is estimated and compared with
the memory this process can still take; a frame that would not fit is stylized at the
largest size that does and scaled back up, with one line saying so, and a frame that fits
at no useful size is refused.
"""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Callable
from pathlib import Path

# Peak bytes per pixel, measured with `livestyle stylize` on 1000x1000 and 2000x2000 photos
# (peak RSS slope, ONNX Runtime and PyTorch on the CPU, benchmarks/RESULTS.md "Bounded
# memory"): the network's layers take about 28 bytes per pixel for each channel of its first
# layer (lite, 16 channels: 430-470; standard, 32: 800-900); the frame's own steps (colour,
# scaling, guided detail, strength) about 75. Rounded up: an estimate must not fall short.
NETWORK_BYTES_PER_PIXEL_PER_CHANNEL = 32
FRAME_BYTES_PER_PIXEL = 96
# Only this share of what is free is planned for: the OS, the decoder, the writer and the
# display need their part too.
USABLE_SHARE = 0.7
# Work estimated below this is never checked (every live frame): reading what is free costs
# a file read per frame, and this much is free on any machine that runs the app at all.
CHECK_ABOVE_BYTES = 256 << 20
# Smaller than this on the long side the picture is not worth making: refuse instead.
MIN_LONG_SIDE = 256


def work_bytes(frame_pixels: int, network_pixels: int, first_width: int) -> int:
    """Estimated peak memory to stylize a frame of `frame_pixels` with the network's input
    at `network_pixels`, for a network whose first layer has `first_width` channels."""
    network = NETWORK_BYTES_PER_PIXEL_PER_CHANNEL * first_width * network_pixels
    return FRAME_BYTES_PER_PIXEL * frame_pixels + network


def available_bytes() -> int | None:
    """Memory this process can still take: the least of the system's available memory, its
    cgroup's (a container's) room and its address-space limit; None where none is known."""
    limits = [
        value
        for value in (_meminfo_available(), _cgroup_room(), _address_space_room())
        if value is not None
    ]
    return min(limits) if limits else None


def usable_bytes() -> int | None:
    available = available_bytes()
    return None if available is None else int(available * USABLE_SHARE)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # other Unixes
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_room() -> int | None:
    """cgroup v2: memory.max minus memory.current ("max": no limit)."""
    folder = Path("/sys/fs/cgroup")
    try:
        limit = (folder / "memory.max").read_text().strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((folder / "memory.current").read_text()))
    except (OSError, ValueError):
        return None


def _address_space_room() -> int | None:
    """RLIMIT_AS (ulimit -v) minus the address space already in use."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        status = Path("/proc/self/status").read_text()
        used = int(status.split("VmSize:")[1].split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return max(0, soft - used)


def fitting_scale(
    height: int,
    width: int,
    network_pixels_at: Callable[[int, int], int],
    first_width: int,
    usable: int,
) -> float:
    """The largest scale (at most 1) of a height x width frame whose work fits in `usable`
    bytes; `network_pixels_at(h, w)` is the network's input pixels for a frame of h x w.
    0.0 when not even MIN_LONG_SIDE fits."""

    def fits(scale: float) -> bool:
        h, w = max(1, round(height * scale)), max(1, round(width * scale))
        return work_bytes(h * w, network_pixels_at(h, w), first_width) <= usable

    if fits(1.0):
        return 1.0
    low, high = MIN_LONG_SIDE / max(height, width), 1.0
    if low >= 1.0 or not fits(low):
        return 0.0
    for _ in range(20):  # bisection: the network's size may be capped, so no closed form
        middle = math.sqrt(low * high)
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low
