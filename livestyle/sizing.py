"""The network's input size: one value that decides it for every frame.

The network runs smaller than the frame and its picture is scaled back up (cheaper, and the
strokes keep their size on screen whatever the camera's resolution). What decides that size
is a NetworkSize: a long side in pixels (`--infer-size`, or live the device's default
divided by `--stroke-scale`), else a scale of the frame (`--infer-scale`, or what
out-of-memory shrank it to); live, each style's own stroke scale divides the long side too.
The Stylizer holds one and asks it for every frame's network shape; nothing else computes
one.
"""

from __future__ import annotations

from dataclasses import dataclass

from livestyle.model import MIN_INPUT_SIDE

# Live, the network's long side whatever the camera's size: fluid on a CPU, sharp on a GPU.
CPU_LIVE_INFER_SIZE = 320
GPU_LIVE_INFER_SIZE = 640

# Each out-of-memory error shrinks the network input by this factor, down to MIN_OOM_SCALE
# of the frame; below that, the error stands (a smaller picture would be useless).
OOM_SHRINK = 0.75
MIN_OOM_SCALE = 0.1


@dataclass(frozen=True)
class NetworkSize:
    """How large the network's input is for a frame.

    `long_side`: the input's long side in pixels (never above the frame's); None: the frame
    scaled by `scale`. `per_style_strokes`: the long side is divided by each style's own
    stroke scale (live, so every painting's strokes read at the size it was tuned for).
    """

    long_side: int | None = None
    scale: float = 1.0
    per_style_strokes: bool = False

    @classmethod
    def live_default(cls, device_type: str, stroke_scale: float | None = None) -> NetworkSize:
        """Live: a fixed long side per device (320 px on a CPU, 640 elsewhere), divided by
        `stroke_scale` (--stroke-scale: above 1 larger strokes) and by each style's own."""
        base = CPU_LIVE_INFER_SIZE if device_type == "cpu" else GPU_LIVE_INFER_SIZE
        long_side = max(MIN_INPUT_SIDE, round(base / (stroke_scale or 1.0)))
        return cls(long_side, 1.0, per_style_strokes=True)

    def style_long_side(self, style_stroke_scale: float = 1.0) -> int | None:
        """The long side for a style of this stroke scale (None: scaled, not sized)."""
        if not (self.per_style_strokes and self.long_side):
            return self.long_side
        return max(MIN_INPUT_SIDE, round(self.long_side / style_stroke_scale))

    def shape(self, height: int, width: int, style_stroke_scale: float = 1.0) -> tuple[int, int]:
        """The network's (height, width) for a frame of this size and a style of this stroke
        scale: the frame scaled so its long side is the long side (never up), or by `scale`.

        Never below the network's smallest input on either side: a wide frame at a small
        size would otherwise crash in reflection padding.
        """
        scale = self.scale
        long_side = self.style_long_side(style_stroke_scale)
        if long_side:
            scale = min(1.0, long_side / max(height, width))
        return max(MIN_INPUT_SIDE, round(height * scale)), max(MIN_INPUT_SIDE, round(width * scale))

    def shrunk(
        self, net_shape: tuple[int, int], frame_shape: tuple[int, int]
    ) -> NetworkSize | None:
        """After out of memory at `net_shape` for a frame of `frame_shape`: the frame scaled
        by OOM_SHRINK of the size actually used (a long side may already be below the
        frame's); None when that is below MIN_OOM_SCALE of the frame."""
        (net_h, net_w), (height, width) = net_shape, frame_shape
        scale = max(net_h / height, net_w / width) * OOM_SHRINK
        if scale < MIN_OOM_SCALE:
            return None
        return NetworkSize(None, scale, self.per_style_strokes)
