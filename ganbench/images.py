"""Image tensor conventions, once: uint8 ``(N, C, H, W)`` in [0, 255] <-> float in [-1, 1], and PNG grids.

Generators output [-1, 1] (tanh); datasets and metrics work on uint8. The mapping is
``u = round((x + 1) * 127.5)`` (``torchvision.utils.save_image``'s), and ``x = u / 127.5 - 1`` back.
"""

from __future__ import annotations

import math
import os

import torch

from .errors import BadInput
from .io import atomic_path

#: Generator outputs may exceed [-1, 1] by this much (float noise) before it is an error.
RANGE_TOLERANCE = 1e-3


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float32 in [-1, 1] (a new tensor)."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor, check: bool = True) -> torch.Tensor:
    """[-1, 1] floats -> uint8 (uint8 passes through). ``check``: NaN/Inf or values outside [-1, 1] (beyond float
    noise) are a ``BadInput`` instead of being clamped silently into a wrong number."""
    if images.dtype == torch.uint8:
        return images
    x = images.float()
    if check:
        if not torch.isfinite(x).all():
            raise BadInput("the generator produced NaN/Inf pixels; the model has diverged, evaluate another checkpoint")
        lo, hi = float(x.min()), float(x.max())
        if lo < -1 - RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            raise BadInput(f"generator outputs must lie in [-1, 1] (tanh range); found [{lo:.4g}, {hi:.4g}]. "
                           "Map them to [-1, 1] first (e.g. x / 127.5 - 1 for 0-255 outputs)")
    return x.add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


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
