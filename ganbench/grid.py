"""Sample grids: a batch of uint8 images written as one PNG, atomically."""

from __future__ import annotations

import math
import os

import torch
from PIL import Image
from torchvision.utils import make_grid

from .io import atomic_path


def save_grid(images: torch.Tensor, path: str | os.PathLike, nrow: int | None = None, padding: int = 2) -> None:
    """Write uint8 images ``(N, C, H, W)`` as a near-square grid PNG at ``path``."""
    if images.dtype != torch.uint8:
        raise TypeError(f"save_grid expects uint8 images, got {images.dtype}")
    n = images.shape[0]
    grid = make_grid(images.cpu(), nrow=nrow or max(1, math.ceil(math.sqrt(n))), padding=padding, pad_value=255)
    arr = grid.permute(1, 2, 0).numpy()
    with atomic_path(path) as tmp:
        Image.fromarray(arr if arr.shape[2] == 3 else arr[..., 0]).save(tmp, format="PNG")
