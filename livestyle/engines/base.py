"""What every engine is: a frame in, a stylized frame out, and the statistics callers read.

The base class runs the engine's own frame work (`_stylize`) and turns the device's errors
into the ones callers handle: out of memory becomes OutOfMemory (the live view frees what
the engine holds and runs the network smaller), an error that poisons the CUDA context
becomes DeviceFailure (the run ends with one clear line). Callers never see torch's types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch

from livestyle.core.errors import OutOfMemory, device_failure, is_sticky_cuda_error
from livestyle.engines.mix import Mix


class Engine(ABC):
    """Runs the styles' networks on one device (see livestyle.engines)."""

    name: str = ""

    def stylize(
        self,
        frame: np.ndarray,
        style: int | Mix,
        net_shape: tuple[int, int],
        strength: float,
        *,
        preserve_color: bool = False,
        guided: bool = False,
    ) -> np.ndarray:
        """`frame` (H, W, 3) uint8 BGR stylized with style number `style`, or a blend of
        styles that share a network body (livestyle.engines.mix), the network run at
        `net_shape`; same size out. `preserve_color` keeps the frame's own colours,
        `guided` scales a smaller network's picture up with the frame's fine detail, and
        `strength` blends the result over the frame (1: the full style)."""
        try:
            return self._stylize(
                frame, style, net_shape, strength, preserve_color=preserve_color, guided=guided
            )
        except torch.cuda.OutOfMemoryError as exc:
            raise OutOfMemory(str(exc)) from exc
        except RuntimeError as exc:
            if is_sticky_cuda_error(exc):
                raise device_failure(exc) from exc
            raise

    @abstractmethod
    def _stylize(
        self,
        frame: np.ndarray,
        style: int | Mix,
        net_shape: tuple[int, int],
        strength: float,
        *,
        preserve_color: bool,
        guided: bool,
    ) -> np.ndarray:
        """The engine's own frame work (errors as the device raises them)."""

    def release(self) -> None:  # noqa: B027  # nothing to free unless the engine says so
        """Free what the engine holds on the device (after an out-of-memory error)."""

    @property
    def threads(self) -> int:
        """CPU threads the network runs on (torch's own count unless the engine has one)."""
        return torch.get_num_threads()

    @property
    def captures(self) -> int:
        """Frame graphs captured so far (only the CUDA engine captures any)."""
        return 0
