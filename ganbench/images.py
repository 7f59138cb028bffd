"""Image tensor conventions, once: uint8 ``(N, C, H, W)`` in [0, 255] <-> float in a value range, and PNG grids.

Generators output [-1, 1] (tanh) unless their spec says [0, 1] (sigmoid, ``arch.output``); datasets and
metrics work on uint8. The mapping is ``u = round((x - lo) * 255 / (hi - lo))`` (for [-1, 1],
``torchvision.utils.save_image``'s ``round((x + 1) * 127.5)``), and ``x = u * (hi - lo) / 255 + lo`` back.
"""

from __future__ import annotations

import math
import os

import torch

from .errors import BadInput
from .io import atomic_path

#: Generator outputs may exceed [-1, 1] by this much (float noise) before it is an error.
RANGE_TOLERANCE = 1e-3


#: The value range generators work in unless they say otherwise (``G.value_range``; tanh's).
DEFAULT_RANGE: tuple[float, float] = (-1.0, 1.0)


def to_float(images: torch.Tensor, value_range: tuple[float, float] = DEFAULT_RANGE) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float32 in ``value_range`` (a new tensor): ``u / 127.5 - 1`` for [-1, 1],
    ``u / 255`` for [0, 1] (compare_gan's ``tf.cast(image, tf.float32) / 255.0``)."""
    lo, hi = value_range
    return images.float().div_(255.0 / (hi - lo)).add_(lo)


def to_uint8(images: torch.Tensor, check: bool = True, value_range: tuple[float, float] = DEFAULT_RANGE
             ) -> torch.Tensor:
    """Floats in ``value_range`` -> uint8 (uint8 passes through): ``round((x - lo) * 255 / (hi - lo))``. ``check``:
    NaN/Inf or values outside the range (beyond float noise) are a ``BadInput`` instead of being clamped silently
    into a wrong number."""
    if images.dtype == torch.uint8:
        return images
    x = images.float()
    lo, hi = value_range
    if check:
        if not torch.isfinite(x).all():
            raise BadInput("the generator produced NaN/Inf pixels; the model has diverged, evaluate another checkpoint")
        found = float(x.min()), float(x.max())
        tol = RANGE_TOLERANCE * (hi - lo) / 2
        if found[0] < lo - tol or found[1] > hi + tol:
            raise BadInput(f"generator outputs must lie in [{lo:g}, {hi:g}]; found [{found[0]:.4g}, {found[1]:.4g}]. "
                           f"Map them to [{lo:g}, {hi:g}] first (e.g. x / 127.5 - 1 for 0-255 outputs and [-1, 1])")
    return x.sub(lo).mul_(255.0 / (hi - lo)).round_().clamp_(0, 255).to(torch.uint8)


def save_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None, padding: int = 2) -> None:
    """Write uint8 images ``(N, C, H, W)`` as a near-square grid PNG at ``path``, atomically."""
    from PIL import Image
    from torchvision.utils import make_grid

    if images.dtype != torch.uint8:
        raise TypeError(f"save_grid expects uint8 images, got {images.dtype}")
    n = images.shape[0]
    grid = make_grid(images.cpu(), nrow=nrow or max(1, math.ceil(math.sqrt(n))), padding=padding, pad_value=255)
    arr = grid.permute(1, 2, 0).numpy()
    with atomic_path(path) as tmp:
        Image.fromarray(arr if arr.shape[2] == 3 else arr[..., 0]).save(tmp, format="PNG")
