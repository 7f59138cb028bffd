"""Latent vectors: the one place z is drawn, from the distribution a spec names (``arch.z_dist``)."""

from __future__ import annotations

import torch


def draw_latents(n: int, z_dim: int, generator: torch.Generator, device=None, dist: str = "normal") -> torch.Tensor:
    """``(n, z_dim)`` latents on ``device`` from ``generator``: N(0, I) or U[-1, 1) (compare_gan's ``z_generator``)."""
    device = generator.device if device is None else device
    if dist == "uniform":
        return torch.rand(n, z_dim, generator=generator, device=device).mul_(2.0).sub_(1.0)
    if dist == "normal":
        return torch.randn(n, z_dim, generator=generator, device=device)
    raise ValueError(f"unknown latent distribution {dist!r}")


def latent_dist(G) -> str:
    """The distribution ``G`` was trained on (``G.z_dist``, set by ``build_nets``; N(0, I) otherwise)."""
    return getattr(G, "z_dist", "normal")
