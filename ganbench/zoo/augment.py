"""DiffAugment (Zhao et al. 2020): differentiable augmentations applied to every D input, real and fake.

Each op maps images ``(N, C, H, W)`` in [-1, 1] to the same shape, draws its per-sample
parameters from an explicit ``torch.Generator`` and lets gradients flow to the images.
Magnitudes follow the paper: brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5],
translation up to 1/8 of the side, one cutout square of half the side.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import BadInput
from ..registry import Registry

Augment = Callable[[Tensor, torch.Generator], Tensor]
AUGMENTS: Registry[Augment] = Registry("DiffAugment policy")

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _rand(x: Tensor, generator: torch.Generator, *shape: int) -> Tensor:
    return torch.rand(x.shape[0], *shape, generator=generator, device=x.device, dtype=x.dtype)


@AUGMENTS.register("color")
def color(x: Tensor, generator: torch.Generator) -> Tensor:
    """Random brightness, then saturation, then contrast, per sample."""
    x = x + (_rand(x, generator, 1, 1, 1) - 0.5)
    mean_c = x.mean(dim=1, keepdim=True)
    x = (x - mean_c) * (_rand(x, generator, 1, 1, 1) * 2.0) + mean_c
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, generator, 1, 1, 1) + 0.5) + mean


@AUGMENTS.register("translation")
def translation(x: Tensor, generator: torch.Generator) -> Tensor:
    """Shift each image by an integer offset in [-s, s] per axis (s = side/8), filling with zeros."""
    n, _, h, w = x.shape
    sy, sx = int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5)
    dy = (_rand(x, generator) * (2 * sy + 1)).long() - sy  # (N,) uniform integers in [-sy, sy]
    dx = (_rand(x, generator) * (2 * sx + 1)).long() - sx
    padded = F.pad(x, (sx, sx, sy, sy))
    rows = torch.arange(h, device=x.device)[None, :] + sy - dy[:, None]  # (N, H) source row per output row
    cols = torch.arange(w, device=x.device)[None, :] + sx - dx[:, None]
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2)


@AUGMENTS.register("cutout")
def cutout(x: Tensor, generator: torch.Generator) -> Tensor:
    """Zero one square of half the side per image, centred anywhere (it may be clipped by the border)."""
    n, _, h, w = x.shape
    ch, cw = int(h * CUTOUT_RATIO + 0.5), int(w * CUTOUT_RATIO + 0.5)
    cy = (_rand(x, generator) * (h + 1 - ch % 2)).long()
    cx = (_rand(x, generator) * (w + 1 - cw % 2)).long()
    rows = torch.arange(h, device=x.device)[None, :] - (cy[:, None] - ch // 2)  # (N, H): offset inside the square
    cols = torch.arange(w, device=x.device)[None, :] - (cx[:, None] - cw // 2)
    inside = ((rows >= 0) & (rows < ch))[:, :, None] & ((cols >= 0) & (cols < cw))[:, None, :]
    return x * (~inside).unsqueeze(1).to(x.dtype)


def parse_policy(policy: str) -> list[str]:
    """``"translation,cutout"`` -> ``["translation", "cutout"]``; unknown names are a ``BadInput``."""
    names = [p.strip() for p in policy.split(",") if p.strip()]
    for name in names:
        if name not in AUGMENTS:
            raise BadInput(f"unknown DiffAugment policy {name!r}; known: {', '.join(AUGMENTS)}")
    return names


def diff_augment(x: Tensor, policy: list[str], generator: torch.Generator) -> Tensor:
    """Apply the named augmentations in the paper's order (color, translation, cutout)."""
    for name in (n for n in ("color", "translation", "cutout") if n in policy):
        x = AUGMENTS.get(name)(x, generator)
    return x
