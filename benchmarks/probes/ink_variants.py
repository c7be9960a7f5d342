"""Any `livestyle` command with livestyle.ink's constants set otherwise: how round fourteen
(benchmarks/RESULTS.md) weighed the lines' source, ramp and colour gain against flicker and
colour. The first argument is NAME=VALUE pairs, comma-separated (or "" for the shipped
values); the rest is the command. A NAME may also be one of livestyle.brushwork's, as
brushwork.NAME: round fifteen gave a style's own colour in full on the 360 px talking head
with brushwork.FULL_OWN_MARKS_SCALE=1.125 (its scale at a 320 px network); or one of
livestyle.dots's, as dots.NAME (round sixteen weighed the dots' shifts and detail against
flicker). A style only takes ink where its metadata asks for it, so give `--styles-dir` a
copy of the shipped file with every style's ink set. The command may also be
`compare-peer` and its arguments: benchmarks/quality/compare_peer.py with the constants set
(round seventeen's blind sheets of the dots' colour).

Run: python benchmarks/probes/ink_variants.py "FRAME_SHARE=1,RAMP=3" eval-stability \
    --video ../shared/clips/grid_bbaf2n.mpg --style great_wave --max-frames 75 \
    --long-side 360 --variant lite --infer-size 320 --styles-dir DIR
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from livestyle import brushwork, dots, ink
from livestyle.cli import main

# Run in place of a livestyle command for `compare-peer`.
COMPARE_PEER = Path(__file__).parents[1] / "quality" / "compare_peer.py"


def set_constants(pairs: str) -> None:
    """Set each NAME=VALUE of `pairs` on livestyle.ink (brushwork.NAME, dots.NAME: on
    livestyle.brushwork, livestyle.dots), refusing names it does not have."""
    modules = {"brushwork": brushwork, "dots": dots}
    for pair in filter(None, pairs.split(",")):
        name, value = pair.split("=")
        prefix, _, short = name.rpartition(".")
        module = modules.get(prefix, ink)
        if not hasattr(module, short):
            sys.exit(f"{module.__name__} has no {short}")
        setattr(module, short, float(value))
    dots.forget_layouts()  # made with the constants before


if __name__ == "__main__":
    set_constants(sys.argv[1])
    if sys.argv[2:3] == ["compare-peer"]:
        sys.argv = [str(COMPARE_PEER), *sys.argv[3:]]
        runpy.run_path(str(COMPARE_PEER), run_name="__main__")
    else:
        sys.exit(main(sys.argv[2:]))
