"""Any `livestyle` command with livestyle.ink's constants set otherwise: how round fourteen
(benchmarks/RESULTS.md) weighed the lines' source, ramp and colour gain against flicker and
colour. The first argument is NAME=VALUE pairs, comma-separated (or "" for the shipped
values); the rest is the command. A style only takes ink where its metadata asks for it, so
give `--styles-dir` a copy of the shipped file with every style's ink set.

Run: python benchmarks/probes/ink_variants.py "FRAME_SHARE=1,RAMP=3" eval-stability \
    --video ../shared/clips/grid_bbaf2n.mpg --style great_wave --max-frames 75 \
    --long-side 360 --variant lite --infer-size 320 --styles-dir DIR
"""

from __future__ import annotations

import sys

from livestyle import ink
from livestyle.cli import main


def set_constants(pairs: str) -> None:
    """Set each NAME=VALUE of `pairs` on livestyle.ink, refusing names it does not have."""
    for pair in filter(None, pairs.split(",")):
        name, value = pair.split("=")
        if not hasattr(ink, name):
            sys.exit(f"livestyle.ink has no {name}")
        setattr(ink, name, float(value))


if __name__ == "__main__":
    set_constants(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
