"""Where `livestyle eval-stability` finds the flicker: its stylized and input errors split by
how far the input moved at each pixel (the flow the measure itself warps by), and beside
them the stylized frames' plain change from the previous frame (no warp), after any
livestyle.ink, brushwork or dots constants are set as benchmarks/probes/ink_variants.py sets
them. Round eighteen (benchmarks/RESULTS.md) asked whether the Grande Jatte's fixed dots were
charged where the subject moves or where the picture stands still: DIS guesses flows of a
pixel and more across the talking head's flat background, and the measure warped the dots by
that guess. Since then eval-stability compares unwarped wherever no motion explains the input
as well as the flow does (livestyle.stability); the table here, and the "flow everywhere"
line, are the measure as it was before, every reliable pixel warped by the flow.

Run: python benchmarks/probes/flicker_where.py "dots.HUE_JITTER=14" eval-stability \
    --video ../shared/clips/grid_bbaf2n.mpg --style grande_jatte --max-frames 75 \
    --long-side 360 --variant lite --infer-size 320
"""

from __future__ import annotations

import sys

import numpy as np
from ink_variants import set_constants

from livestyle.cli import main
from livestyle.commands import eval_stability
from livestyle.stability import Flicker, FlowWarper, measure_flicker

# Bins of the input's motion at a pixel, in pixels a frame: (name, lowest, highest).
BINS = (("still", 0.0, 0.25), ("slow", 0.25, 1.0), ("moving", 1.0, np.inf))


def split_by_motion(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> None:
    """Print, per bin of motion, its share of the reliable pixels and the mean warped error
    of the stylized frames and of the input's (as measure_flicker counts them)."""
    warper = FlowWarper()
    # pixels, stylized error, input error, stylized change unwarped
    sums = {name: np.zeros(4) for name, _, _ in BINS}
    for i in range(1, len(inputs)):
        back = warper.flow(inputs[i - 1], inputs[i])
        mask = warper.reliable(back, warper.flow(inputs[i], inputs[i - 1]))
        speed = np.linalg.norm(back, axis=2)
        errors = [
            np.abs(frames[i].astype(np.float32) - warper.warp(frames[i - 1], back)).mean(axis=2)
            for frames in (outputs, inputs)
        ]
        errors.append(np.abs(outputs[i].astype(np.float32) - outputs[i - 1]).mean(axis=2))
        for name, low, high in BINS:
            where = mask & (speed >= low) & (speed < high)
            sums[name] += [where.sum(), *(error[where].sum() for error in errors)]
    total = sum(s[0] for s in sums.values())
    print("| motion | share of pixels | stylized error | input error | ratio | unwarped |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (pixels, stylized, source, unwarped) in sums.items():
        if pixels:
            print(
                f"| {name} | {pixels / total:.0%} | {stylized / pixels:.2f} | "
                f"{source / pixels:.2f} | {stylized / max(source, 1e-9):.2f} | "
                f"{unwarped / pixels:.2f} |"
            )


def measure_and_split(inputs: list[np.ndarray], outputs: list[np.ndarray]) -> Flicker:
    """eval-stability's measure, after the split and the measure as it was before."""
    split_by_motion(inputs, outputs)
    before = measure_flicker(inputs, outputs, flow_everywhere=True)
    print(
        f"flow everywhere: stylized {before.stylized:.2f}, input {before.input:.2f}, "
        f"ratio {before.ratio:.2f}"
    )
    return measure_flicker(inputs, outputs)


if __name__ == "__main__":
    set_constants(sys.argv[1])
    eval_stability.measure_flicker = measure_and_split
    sys.exit(main(sys.argv[2:]))
