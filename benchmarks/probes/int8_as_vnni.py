"""Any `livestyle` command with int8 as a CPU with int8 dot products (AVX-512 VNNI,
AVX-VNNI) runs it, on one without them: 8-bit weights where livestyle.engines.quantize
would give 7 (its `saturates` answers no). The pictures differ from a VNNI CPU's only where
int8 sums overflow, which the shipped network hardly does (RESULTS.md, round eleven): the
Starry Night at `--marks 0.5` flickers 2.54x the talking head's own through this on a Zen 1
AMD EPYC, as on round ten's VNNI machine. Use a fresh LIVESTYLE_CACHE_DIR, as the session
cache does not know the weights' bits.

Run: LIVESTYLE_CACHE_DIR=$(mktemp -d) python benchmarks/probes/int8_as_vnni.py \
    eval-stability --video ../shared/clips/grid_bbaf2n.mpg --style starry_night \
    --max-frames 75 --long-side 360 --variant lite --infer-size 320 --precision int8
A probe script instead of a command runs the same way, e.g. the int8 check of a network as a
VNNI CPU makes it: python benchmarks/probes/int8_as_vnni.py benchmarks/probes/int8_layers.py FILE
"""

from __future__ import annotations

import runpy
import sys

from livestyle.cli import main
from livestyle.engines import quantize


def eight_bits() -> bool:
    return False


if __name__ == "__main__":
    quantize.saturates = eight_bits  # type: ignore[assignment]
    if len(sys.argv) > 1 and sys.argv[1].endswith(".py"):
        sys.argv = sys.argv[1:]
        runpy.run_path(sys.argv[0], run_name="__main__")
    else:
        sys.exit(main(sys.argv[1:]))
