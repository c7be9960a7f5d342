"""Frame conversion shared by every engine: BGR uint8 frames in and out, on any device.

The colour conversion, normalization, resizing, original-colour step, strength blend and
rounding run on the frame's device (the GPU in half precision), so every engine sees the
same pixels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F


def bgr_to_input(frame: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(H, W, 3) uint8 BGR on any device -> (1, 3, H, W) RGB in [0, 1]."""
    return frame.permute(2, 0, 1).flip(0).unsqueeze(0).to(dtype).div_(255.0)


def output_to_bgr(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) RGB, any range -> (H, W, 3) uint8 BGR, rounded, on the same device.

    Contiguous, so the display and the recorder use the array as it is instead of each
    copying it (the reorder costs least here, on the inference thread or the GPU)."""
    scaled = image[0].float().clamp(0.0, 1.0).mul_(255.0).add_(0.5)  # never mutates the input
    return scaled.to(torch.uint8).flip(0).permute(1, 2, 0).contiguous()


def stylize_frame(
    frame: torch.Tensor,
    net: Callable[[torch.Tensor], torch.Tensor],
    dtype: torch.dtype,
    net_shape: tuple[int, int],
    strength: float | torch.Tensor | None,
    channels_last: bool,
    preserve_color: bool | torch.Tensor = False,
    guided: bool | torch.Tensor = False,
) -> torch.Tensor:
    """(H, W, 3) uint8 BGR -> stylized (H, W, 3) uint8 BGR on the frame's device.

    The network sees the frame resized to `net_shape`; `strength` None is the full style,
    a number or 0-dim tensor blends over the frame. `preserve_color` True keeps the frame's
    own colours (see original_colors); `guided` True scales a smaller network's picture up
    with the frame's own fine detail (see guided_upscale). Either as a 0-dim tensor, 0 or 1,
    picks between the two results as data (the CUDA graphs, so a toggle never recaptures).
    Shared by the eager path and the CUDA graphs, which capture exactly this.
    """
    height, width = frame.shape[:2]
    x = bgr_to_input(frame, dtype)
    small = x
    if net_shape != (height, width):
        small = F.interpolate(
            x, size=net_shape, mode="bilinear", antialias=True, align_corners=False
        )
    net_in = small.contiguous(memory_format=torch.channels_last) if channels_last else small
    y = net(net_in)
    if isinstance(preserve_color, torch.Tensor) or preserve_color:
        y = keep_colors(small, y, preserve_color)
    if net_shape != (height, width):
        if isinstance(guided, torch.Tensor) or guided:
            y = guided_upscale(y, small, x, guided)
        else:
            y = F.interpolate(y, size=(height, width), mode="bilinear", align_corners=False)
    if strength is not None:
        # Blend the picture the user sees (clamped), not the raw network output.
        y = torch.lerp(x, y.to(x.dtype).clamp(0.0, 1.0), strength)
    return output_to_bgr(y)


# Guided detail: the window of the local fits at the network's size (5x5) and their
# regularizer, a lightness variance (a standard deviation of 8/255): flatter windows, where
# the frame's detail is mostly sensor noise, get little of it.
GUIDE_RADIUS = 2
GUIDE_EPS = 1e-3
# The least share of the frame's own detail a textured window gets back, whatever the style
# paints there: at the live size (320 px on a CPU, less for wide strokes) the fits alone
# left pictures soft beside the peer's (blind sheets, benchmarks/RESULTS.md). Scaled by how
# far the window's texture stands above GUIDE_EPS, so flat windows' sensor noise stays out.
GUIDE_DETAIL_FLOOR = 1.0


def guided_upscale(
    stylized: torch.Tensor,
    small: torch.Tensor,
    frame: torch.Tensor,
    weight: bool | torch.Tensor = True,
) -> torch.Tensor:
    """The stylized picture scaled up to the frame's size with the fine detail the network
    never saw.

    A network run smaller than the frame (320 px on a CPU) loses what its input's downscale
    removed: eyelids, glasses rims, strands of hair. That detail is the frame's lightness
    minus its downscaled copy scaled back up. How much of it each stylized channel takes
    comes from a local linear fit of the stylized picture against the network input's
    lightness (the guided filter of He et al. 2013, fitted at the network's size like the
    fast guided filter of He and Sun 2015): where the style follows the photo's light and
    dark, its detail comes back with the same gain; where the style paints over it, the
    gain is still GUIDE_DETAIL_FLOOR in textured windows (eyes, hair, lettering stay sharp)
    and near 0 in flat ones (their detail is mostly noise). The stylized picture itself is
    kept as plain scaling gives it: only detail is added. `weight` 0 or 1 as a 0-dim tensor
    switches the detail as data.
    """
    channels = stylized.shape[1]
    # The fits in float32: a variance by subtraction loses its digits in half precision.
    guide = _mix(_LUMA, small.float())
    target = stylized.float()
    means = _box(torch.cat([guide, target, guide * target, guide * guide], 1))
    mean_guide, mean_target, mean_product, mean_square = means.split([1, channels, channels, 1], 1)
    covariance = mean_product - mean_guide * mean_target
    variance = mean_square - mean_guide * mean_guide
    regularized = variance + GUIDE_EPS
    gain = _box(
        torch.maximum(covariance / regularized, GUIDE_DETAIL_FLOOR * variance / regularized)
    )
    # One scaling pass for the picture, the gains and the guide (the cost is per pass).
    layers = torch.cat([target, gain, guide], 1)
    up = F.interpolate(layers, size=frame.shape[-2:], mode="bilinear", align_corners=False)
    picture, up_gain, up_guide = up.split([channels, channels, 1], 1)
    detail = _mix(_LUMA, frame.float()) - up_guide
    if isinstance(weight, torch.Tensor):
        detail = detail * weight
    return torch.addcmul(picture, up_gain, detail).to(stylized.dtype)


def _box(image: torch.Tensor) -> torch.Tensor:
    """Mean over each pixel's window, the frame's edge mirrored. A depthwise convolution:
    on one CPU thread 6x faster than avg_pool2d for the same windows."""
    side = 2 * GUIDE_RADIUS + 1
    channels = image.shape[1]
    # Made on the device (a fill, which a CUDA graph captures; a host copy it could not).
    kernel = image.new_full((channels, 1, side, side), 1.0 / side**2)
    padded = F.pad(image, (GUIDE_RADIUS,) * 4, mode="reflect")
    return F.conv2d(padded, kernel, groups=channels)


def keep_colors(
    frame: torch.Tensor, stylized: torch.Tensor, preserve_color: bool | torch.Tensor
) -> torch.Tensor:
    """The stylized picture with the frame's own colours: all of them with True, or picked
    by a 0-dim tensor (0 or 1) as data.

    Done at the network's size, before scaling up: the stylized picture has no finer detail
    than that, the eye resolves colour more coarsely than lightness (why video keeps chroma
    at half size), and the cost then follows the network's size, not the camera's: at
    640x480 from a 320 px network it adds 4-6 ms to a 21-22 ms frame here, against 25-30 ms
    at the frame's size (ONNX engine, one core of the busy 2-core CPU;
    benchmarks/probes/original_colors_cost.py).
    """
    kept = original_colors(frame, stylized.clamp(0.0, 1.0))
    if not isinstance(preserve_color, torch.Tensor):
        return kept
    # lerp with a weight of exactly 0 or 1 returns that end bit for bit (the network's output
    # as it was, unclamped, or the kept colours): the CUDA graph, given the choice as data,
    # shows what the eager path shows.
    return torch.lerp(stylized.to(kept.dtype), kept, preserve_color)


# Original colours: the painting's lightness with the frame's own colour, in Oklab
# (Ottosson 2020), made so that L is lightness and a, b are hue and chroma as seen. Y'CbCr
# (one matrix, cheaper) is not perceptual: its luma is not lightness (a saturated blue and
# the grey of equal luma look unequally light) and Cb, Cr kept at another luma are not the
# same colour as seen, so the painting's light and dark would come out uneven across hues.
# Oklab costs the sRGB curve and a cube root per channel (measured in keep_colors). The
# matrices are Python numbers, not tensors, so a CUDA graph captures this without copying
# constants to the device.
_RGB_TO_LMS = (
    (0.4122214708, 0.5363325363, 0.0514459929),
    (0.2119034982, 0.6806995451, 0.1073969566),
    (0.0883024619, 0.2817188376, 0.6299787005),
)
_LMS_TO_RGB = (
    (4.0767416621, -3.3077115913, 0.2309699292),
    (-1.2684380046, 2.6097574011, -0.3413193965),
    (-0.0041960771, -0.7034186147, 1.7076904801),
)
_LIGHTNESS = ((0.2104542553, 0.7936177850, -0.0040720468),)  # cube-rooted LMS -> Oklab L
_LUMA = ((0.299, 0.587, 0.114),)  # Rec. 601 luma: a cheap lightness for the guided detail


def _mix(rows: tuple[tuple[float, float, float], ...], image: torch.Tensor) -> torch.Tensor:
    """A colour matrix applied to (1, 3, H, W): one output channel per row."""
    r, g, b = image.unbind(1)
    return torch.stack([(r * p).add_(g, alpha=q).add_(b, alpha=s) for p, q, s in rows], 1)


def srgb_to_linear(image: torch.Tensor) -> torch.Tensor:
    curve = image.add(0.055).div_(1.055).pow_(2.4)
    return torch.where(image <= 0.04045, image / 12.92, curve)


def linear_to_srgb(image: torch.Tensor) -> torch.Tensor:
    image = image.clamp(0.0, 1.0)  # rounding may leave a hair outside
    curve = image.pow(1 / 2.4).mul_(1.055).sub_(0.055)
    return torch.where(image <= 0.0031308, image * 12.92, curve)


def into_gamut(linear: torch.Tensor, grey: torch.Tensor) -> torch.Tensor:
    """Linear RGB (1, 3, H, W) that may lie outside [0, 1], moved toward `grey` (1, 1, H, W,
    in [0, 1]) just far enough to fit: it gives up chroma, not lightness.

    The frame's colour at the painting's lightness often does not exist on a screen (a
    saturated blue made light, a yellow made dark); clipping each channel would lighten the
    dark strokes and darken the light ones, which is the brushwork this mode keeps.
    """
    offset = linear - grey
    up = offset.amax(1, keepdim=True).clamp_min_(1e-6)  # the channel that rises most
    down = offset.amin(1, keepdim=True).neg_().clamp_min_(1e-6)  # and the one that falls most
    reach = torch.minimum((1.0 - grey).div_(up), grey / down).clamp_max_(1.0)
    return offset.mul_(reach).add_(grey)


def original_colors(frame: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) sRGB in [0, 1], both -> the stylized Oklab lightness (L) with the frame's
    chroma (a, b), as sRGB in [0, 1] in the frame's dtype (computed in float32)."""
    frame_lms = _mix(_RGB_TO_LMS, srgb_to_linear(frame.float())).pow_(1 / 3)
    stylized_lms = _mix(_RGB_TO_LMS, srgb_to_linear(stylized.float())).pow_(1 / 3)
    lightness = _mix(_LIGHTNESS, stylized_lms)
    # L, a and b are linear in the cube-rooted LMS, and L adds equally to all three of them:
    # giving the frame the painting's L is adding the difference of the two Ls to each.
    lms = frame_lms.add_(lightness - _mix(_LIGHTNESS, frame_lms))
    linear = _mix(_LMS_TO_RGB, lms * lms * lms)
    # Oklab's grey of lightness L is L cubed in every linear channel.
    grey = lightness * lightness * lightness
    return linear_to_srgb(into_gamut(linear, grey)).to(frame.dtype)


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run torch's CPU ops of the calling thread on `count` threads (None: unchanged).

    With ONNX Runtime doing the network, torch only converts, resizes and rounds frames:
    a millisecond on one thread, but tens of milliseconds on two when the second core is
    busy, because every parallel op waits for its slowest thread to be scheduled. With
    OpenMP the setting is per calling thread; it is restored either way.
    """
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
