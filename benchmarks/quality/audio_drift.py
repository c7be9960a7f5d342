"""How far a live recording's sound strays from the picture over 10 minutes: a simulated
microphone whose sample clock runs fast or slow against the system clock, its blocks
arriving late by a jittered amount, placed by livestyle.live.audio's SampleClock exactly as
the recorder places a real device's. No waiting: the clock is simulated.

    python benchmarks/quality/audio_drift.py [--minutes 10] [--drift-percent 0.1] [--seed 0]

Prints, per drift, the worst distance between where a sample is written and when it was
heard (the capture clock), and the same for sound timed by its sample count alone. A frame
at 30 fps is 33.3 ms: the recording must stay within one.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from livestyle.live.audio import RATE, SampleClock

BLOCK = 1024  # samples a read brings (ALSA's usual period at 48 kHz: 21 ms)
JITTER_S = 0.004  # every block arrives up to this late (the reading thread's scheduling)
STALL_EVERY = 50  # about one block in this many is held up longer...
STALL_S = (0.01, 0.08)  # ...by this much, the blocks behind it coming in a burst after it


@dataclass(frozen=True)
class Drift:
    """One simulated run: the worst stray (seconds) of placed and of counted-only sound."""

    drift: float  # the device's clock against the system's: 0.001 is 0.1% fast
    worst: float
    counted_only: float
    jumps: int  # corrections made at once (there should be none for a steady drift)
    stretched: int  # samples added (negative: removed) by stretching


def simulate(drift: float, seconds: float = 600.0, seed: int = 0, block: int = BLOCK) -> Drift:
    """`seconds` of a device `drift` fast (negative: slow) through a SampleClock."""
    rng = np.random.default_rng(seed)
    clock = SampleClock(RATE)
    device_rate = RATE * (1.0 + drift)  # samples it really makes in a second
    t0 = 1000.0  # the capture clock when the device's first sample was heard
    count = int(seconds * device_rate) // block
    done = t0 + np.arange(1, count + 1) * block / device_rate  # each block's last sample
    late = rng.uniform(0.0, JITTER_S, count)
    stalls = rng.random(count) < 1.0 / STALL_EVERY
    late[stalls] += rng.uniform(*STALL_S, stalls.sum())
    # A block held up holds up those behind it: they arrive in order, together after it.
    arrival = np.maximum.accumulate(done + late)
    worst = counted = 0.0
    for i in range(count):
        heard_at = arrival[i] - block / RATE  # what the capture thread stamps
        start, length = clock.place(heard_at, block)
        assert clock.origin is not None
        first_heard = t0 + i * block / device_rate
        last_heard = first_heard + block / device_rate
        worst = max(
            worst,
            abs(clock.origin + start / RATE - first_heard),
            abs(clock.origin + (start + length) / RATE - last_heard),
        )
        counted = max(counted, abs(clock.origin + (i + 1) * block / RATE - last_heard))
    return Drift(drift, worst, counted, clock.jumps, clock.stretched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--drift-percent", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{args.minutes:g} simulated minutes, {BLOCK}-sample blocks at {RATE} Hz\n")
    print("| device clock | worst stray | counted only | jumps | stretched |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for sign in (1, 0, -1):
        drift = sign * args.drift_percent / 100
        result = simulate(drift, args.minutes * 60, args.seed)
        print(
            f"| {drift:+.2%} | {result.worst * 1000:.1f} ms | {result.counted_only:.3f} s "
            f"| {result.jumps} | {result.stretched / RATE * 1000:+.0f} ms |"
        )


if __name__ == "__main__":
    main()
