"""Drawing samples from a generator: seeded latents in, uint8 images out."""

from __future__ import annotations

import torch
from torch import nn

from ..config import SAMPLE_BATCH_SIZE
from ..zoo.latent import draw_latents, latent_dist


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats -> uint8 [0, 255], the inverse of ``ImageSet.float`` (u / 127.5 - 1)."""
    return ((x.float() + 1.0) * 127.5).round_().clamp_(0, 255).to(torch.uint8)


@torch.no_grad()
def generate(G: nn.Module, n: int, seed: int, batch_size: int = SAMPLE_BATCH_SIZE, device=None) -> torch.Tensor:
    """``n`` raw G outputs ``(n, *shape)`` on CPU from latents drawn with ``torch.Generator(seed)``, G in eval mode."""
    device = torch.device(device) if device is not None else next(G.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    was_training = G.training
    G.eval()
    try:
        dist = latent_dist(G)
        out = [G(draw_latents(min(batch_size, n - i), G.z_dim, gen, device, dist)).float().cpu()
               for i in range(0, n, batch_size)]
    finally:
        G.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def sample_images(G: nn.Module, n: int, seed: int, batch_size: int = SAMPLE_BATCH_SIZE, device=None) -> torch.Tensor:
    """``n`` samples as uint8 ``(N, C, H, W)`` on CPU; the same seed and device give the same images."""
    return to_uint8(generate(G, n, seed, batch_size, device))
