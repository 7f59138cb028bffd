"""The one sampler: seeded latents (and class labels, for a conditional G) -> G -> images.

Used by training grids, evaluation, sharded evaluation and ``compare`` alike, with one seeding
convention: latents are drawn on the CPU from ``torch.Generator().manual_seed(seed)``, batch by
batch (``batch_size`` rows at a time), so the same seed gives the same latents on every device and
the first ``m`` of ``n`` samples are the ``m`` samples of the same seed. Labels come from their own
generator (seed + ``LABEL_SEED_OFFSET``) so adding them never changes the latents.

A generator is a module or callable ``G(z)`` (unconditional) or ``G(z, c)`` (``G.num_classes > 0``)
with ``G.z_dim`` (and optionally ``G.z_dist``, ``G.class_probs``), mapping to images in [-1, 1], or in
``G.value_range`` when it has one (a sigmoid G's (0, 1)): this is where samples become uint8.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch

from ..config import SAMPLE_BATCH_SIZE
from ..images import DEFAULT_RANGE, to_uint8
from .latent import draw_latents, latent_dist

#: The labels' generator is seeded with seed + this, apart from the latents' stream.
LABEL_SEED_OFFSET = 1_000_003


class Inputs(NamedTuple):
    z: torch.Tensor  # (n, z_dim) on the CPU
    c: torch.Tensor | None  # (n,) int64 class labels, or None for an unconditional G


class Samples(NamedTuple):
    images: torch.Tensor  # (n, C, H, W): uint8 from ``sample``, raw floats from ``generate``
    labels: torch.Tensor | None


def num_classes_of(G) -> int:
    return int(getattr(G, "num_classes", 0) or 0)


def draw_inputs(G, n: int, seed: int, batch_size: int = SAMPLE_BATCH_SIZE, z_dim: int | None = None) -> Inputs:
    """The ``n`` latents (and labels) that ``sample(G, n, seed)`` feeds G, on the CPU."""
    z_dim = int(z_dim or G.z_dim)
    gen = torch.Generator().manual_seed(seed)
    dist = latent_dist(G)
    z = [draw_latents(min(batch_size, n - i), z_dim, gen, "cpu", dist) for i in range(0, n, batch_size)]
    z = torch.cat(z) if z else torch.empty(0, z_dim)
    k = num_classes_of(G)
    if not k:
        return Inputs(z, None)
    probs = getattr(G, "class_probs", None)
    probs = torch.full((k,), 1.0 / k) if probs is None else torch.as_tensor(probs, dtype=torch.float64)
    labels = torch.multinomial(probs.float(), n, replacement=True,
                               generator=torch.Generator().manual_seed(seed + LABEL_SEED_OFFSET)) if n else \
        torch.empty(0, dtype=torch.long)
    return Inputs(z, labels)


def _device_of(G, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    params = getattr(G, "parameters", None)
    first = next(iter(params()), None) if callable(params) else None
    return first.device if first is not None else torch.device("cpu")


@torch.no_grad()
def generate(G: Callable, n: int, seed: int, batch_size: int = SAMPLE_BATCH_SIZE, device=None,
             rows: tuple[int, int] | None = None, z_dim: int | None = None) -> Samples:
    """Raw G outputs (floats, on the CPU) for rows ``[start, end)`` of the ``n`` seeded inputs (all by default),
    G in eval mode."""
    device = _device_of(G, device)
    z, c = draw_inputs(G, n, seed, batch_size, z_dim)
    start, end = rows or (0, n)
    z, c = z[start:end], (c[start:end] if c is not None else None)
    was_training = getattr(G, "training", None)
    if was_training is not None:
        G.eval()
    try:
        out = []
        for i in range(0, len(z), batch_size):
            zb = z[i:i + batch_size].to(device)
            x = G(zb) if c is None else G(zb, c[i:i + batch_size].to(device))
            if not isinstance(x, torch.Tensor):
                raise TypeError(f"the generator returned {type(x).__name__}, not a tensor of images")
            out.append(x.float().cpu())
    finally:
        if was_training:
            G.train()
    return Samples(torch.cat(out) if out else torch.empty(0), c)


def sample(G: Callable, n: int, seed: int, batch_size: int = SAMPLE_BATCH_SIZE, device=None,
           rows: tuple[int, int] | None = None, check: bool = True, z_dim: int | None = None) -> Samples:
    """``n`` samples as uint8 ``(N, C, H, W)`` on the CPU, with their labels (None when unconditional).

    ``check``: NaN/Inf or outputs outside G's value range are an error (see ``images.to_uint8``); training grids
    pass False, since divergence is the trainer's to report.
    """
    raw, labels = generate(G, n, seed, batch_size, device, rows, z_dim)
    if raw.ndim != 4:
        raise ValueError(f"the generator must return images (B, C, H, W), got shape {tuple(raw.shape)}")
    return Samples(to_uint8(raw, check=check, value_range=value_range_of(G)), labels)


def value_range_of(G) -> tuple[float, float]:
    """The value range ``G``'s images lie in: ``G.value_range`` (set by ``build_nets`` from ``arch.output``), else
    [-1, 1]."""
    return tuple(getattr(G, "value_range", DEFAULT_RANGE))


def sample_images(G: Callable, n: int, seed: int, batch_size: int = SAMPLE_BATCH_SIZE, device=None,
                  check: bool = True) -> torch.Tensor:
    """Only the uint8 images of ``sample``."""
    return sample(G, n, seed, batch_size, device, check=check).images
