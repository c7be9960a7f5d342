"""Ink: dark outlines and fuller colour, for the paintings that are drawn in lines.

Hokusai's woodblock and Kandinsky's canvas have black lines round their shapes, and blind
judges gave the peer those rows for its "bold colours and dark outlines" while ours read
"muted", "blurry" (benchmarks/RESULTS.md, round fourteen). The half-resolution CPU network
paints no line one frame pixel wide. `inked` draws them on the frame it returns: where the
lightness falls off across an edge (the dark side of a difference of Gaussians, at the
frame's resolution), the picture is darkened; and its colours are made fuller. The edges are
those of the stylized picture and the camera's frame half and half: lines of the painted
picture alone toggled with its shimmer (the talking head's flicker 1.48x -> 2.59x the
input's for the Great Wave, past the 2.5x bar), the frame's alone drew the photo's wrinkles
like an engraving. Every line follows the picture, never the screen. A style asks for it in
its metadata (StyleInfo.ink, paintings.json "ink").

A style may also ask for more colour than ink's (StyleInfo.colour): fuller and with more
contrast, for a painting whose colours its network paints paler than the judges look for
(Composition VII: "paler", "greyer and more washed out" at ink's 1.2x; round fifteen).
"""

from __future__ import annotations

import cv2
import numpy as np

from livestyle.video.files import fit_long_side

# The most a style's "ink" takes: the strength the blind rows were judged at.
MAX_INK = 1.0
# The line's scale: SIGMA px on a frame whose long side is REFERENCE_SIDE, in proportion on
# larger frames (found at REFERENCE_SIDE and scaled up), so a line is the same share of the
# picture at any resolution.
SIGMA = 1.5
REFERENCE_SIDE = 640
# The outer Gaussian's sigma over the inner's (Marr and Hildreth's ratio).
SURROUND = 1.6
# Grey levels the band must fall below zero before a line starts, and how many more before
# it is at its darkest. A lower threshold draws fur and noise as black specks; a steeper
# ramp makes lines flick on and off (the Great Wave, lines of the picture alone with the
# first colour gain: 2.78x the talking head's flicker at a ramp of 3, 2.41x at 6).
THRESHOLD = 3.0
RAMP = 6.0
# The camera frame's share of the edges' source, the stylized picture's the rest.
FRAME_SHARE = 0.5
# At full ink: a line darkens the picture by this share, and colour grows by this share. 0.4
# and a 15% contrast gain took the Great Wave's colour variance on the astronaut from 0.103
# to 0.188 (the painting's 0.114; covariance error 0.008 -> 0.434); this gain to 0.155
# (0.155), about what the lines' own dark gives without it (0.156).
DARKNESS = 0.8
SATURATION_GAIN = 0.2
# At full colour (StyleInfo.colour 1, MAX_COLOUR) the saturation grows by this share more
# than ink's, and the contrast about mid-grey by this share: Composition VII at 1.6x and
# 1.2x won 5 and 4 of 5 blind rows, at 1.4x and 1.15x 2 and 3 (benchmarks/RESULTS.md, round
# fifteen). Both amplify the network's shimmer in proportion.
MAX_COLOUR = 1.0
COLOUR_SATURATION_GAIN = 0.4
COLOUR_CONTRAST_GAIN = 0.2
MID_GREY = 128.0
# BGR weights of a pixel's grey (ITU-R BT.601, as cv2.COLOR_BGR2GRAY).
GREY_WEIGHTS = np.array([0.114, 0.587, 0.299])


def inked(image: np.ndarray, frame: np.ndarray, amount: float, colour: float = 0.0) -> np.ndarray:
    """`image` (the stylized picture of `frame`, both BGR uint8 of one size) with fuller
    colour and dark lines on their edges, `amount` (0 to MAX_INK) of the full effect, and
    `colour` (0 to MAX_COLOUR) of the style's own colour gain on top. Returns `image` itself
    when both are 0. OpenCV passes over uint8 where they can: the same in float32 numpy took
    15 ms on a 640x360 frame on one thread, this 4 ms (benchmarks/probes/own_finish_cost.py)."""
    amount, colour = min(max(amount, 0.0), MAX_INK), min(max(colour, 0.0), MAX_COLOUR)
    if amount == 0.0 and colour == 0.0:
        return image
    coloured = cv2.transform(image, _colour_matrix(amount, colour))  # saturates to 0..255
    if amount == 0.0:
        return coloured
    keep = _line_shade(image, frame, amount)
    return cv2.multiply(coloured, cv2.merge([keep, keep, keep]), scale=1.0 / 255.0)


def _colour_matrix(amount: float, colour: float) -> np.ndarray:
    """The 3x4 BGR transform that moves colour away from its own grey (saturation) and,
    with `colour`, lightness away from mid-grey (contrast)."""
    saturation = 1.0 + SATURATION_GAIN * amount + COLOUR_SATURATION_GAIN * colour
    contrast = 1.0 + COLOUR_CONTRAST_GAIN * colour
    to_grey = np.tile(GREY_WEIGHTS, (3, 1))
    fuller = contrast * (saturation * np.eye(3) + (1.0 - saturation) * to_grey)
    offset = np.full((3, 1), MID_GREY * (1.0 - contrast))
    return np.hstack([fuller, offset]).astype(np.float32)


def _line_shade(image: np.ndarray, frame: np.ndarray, amount: float) -> np.ndarray:
    """Per pixel, 255 where no line lies, down to 255 * (1 - DARKNESS * amount) on the dark
    side of an edge (uint8: what the picture is multiplied by, over 255). On a frame larger
    than REFERENCE_SIDE the band is found on a copy of that size, where its sigma is SIGMA,
    and the shade scaled back up: the same lines in proportion, but with the blurs at the
    frame's size (they grow with it) ink took 35 ms of a 1280x720 frame on one thread, this
    way 14 (benchmarks/probes/own_finish_cost.py, round fifteen)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    frame_grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    edges = cv2.addWeighted(frame_grey, FRAME_SHARE, grey, 1.0 - FRAME_SHARE, 0.0, dtype=cv2.CV_32F)
    height, width = edges.shape
    edges = fit_long_side(edges, REFERENCE_SIDE)
    # Surround minus centre: above zero on the dark side of an edge.
    band = cv2.GaussianBlur(edges, (0, 0), SIGMA * SURROUND)
    band -= cv2.GaussianBlur(edges, (0, 0), SIGMA)
    darkest = 255.0 * DARKNESS * amount
    # 255 up to THRESHOLD, falling by `darkest` over RAMP levels; saturated at 255.
    shade = cv2.addWeighted(
        band, -darkest / RAMP, band, 0.0, 255.0 + darkest * THRESHOLD / RAMP, dtype=cv2.CV_8U
    )
    if shade.shape != (height, width):
        shade = cv2.resize(shade, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.max(shade, round(255.0 - darkest))
