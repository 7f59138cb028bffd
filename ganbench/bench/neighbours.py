"""Each model's nearest-training-neighbour gallery: a few samples, each above the training image closest to it in
pixel space (L2 on uint8 pixels), the direct look at whether a generator hands back its training images (the
number for it is the data-copying test C_T, ``metrics.memorization``)."""

from __future__ import annotations

import io

import torch

from ..data import ImageSet

#: Samples per gallery.
GALLERY = 8


def nearest_training(samples: torch.Tensor, train: ImageSet, chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """For uint8 ``samples`` (N, C, H, W) at the training set's resolution: the index of each one's nearest training
    image and the distance (pixel L2 over [0, 255]), scanning the training set ``chunk`` images at a time."""
    q = samples.float().flatten(1)
    best_d = torch.full((len(q),), float("inf"))
    best_i = torch.zeros(len(q), dtype=torch.long)
    for start in range(0, len(train), chunk):
        t = train.uint8(slice(start, min(start + chunk, len(train)))).float().flatten(1)
        d, i = torch.cdist(q, t).min(1)
        better = d < best_d
        best_d[better], best_i[better] = d[better], i[better] + start
    return best_i, best_d


def gallery_png(samples: torch.Tensor, train: ImageSet) -> bytes:
    """A PNG: the samples in the top row, their nearest training images below."""
    from PIL import Image
    from torchvision.utils import make_grid

    idx, _ = nearest_training(samples, train)
    pairs = torch.cat([samples.cpu(), train.uint8(idx)])
    grid = make_grid(pairs, nrow=len(samples), padding=2, pad_value=255).permute(1, 2, 0).numpy()
    buf = io.BytesIO()
    Image.fromarray(grid if grid.shape[2] == 3 else grid[..., 0]).resize(
        (grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(buf, format="PNG")
    return buf.getvalue()
