"""DiffAugment (Zhao et al. 2020): differentiable augmentations applied to every D input, real and fake; ADA's
adaptive strength over them (Karras et al. 2020); and consistency regularisation's transform.

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
#: ADA's adjustment interval (D steps) and speed (kimg for p to move by 1): stylegan2-ada-pytorch train.py defaults.
ADA_INTERVAL = 4
ADA_KIMG = 500


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


def _translate(x: Tensor, generator: torch.Generator, sy: int, sx: int, mode: str) -> Tensor:
    """Shift each image by an integer offset in [-sy, sy] x [-sx, sx], filling from ``F.pad(mode=...)``."""
    n, _, h, w = x.shape
    dy = (_rand(x, generator) * (2 * sy + 1)).long() - sy  # (N,) uniform integers in [-sy, sy]
    dx = (_rand(x, generator) * (2 * sx + 1)).long() - sx
    padded = F.pad(x, (sx, sx, sy, sy), mode=mode)
    rows = torch.arange(h, device=x.device)[None, :] + sy - dy[:, None]  # (N, H) source row per output row
    cols = torch.arange(w, device=x.device)[None, :] + sx - dx[:, None]
    batch = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2)


@AUGMENTS.register("translation")
def translation(x: Tensor, generator: torch.Generator) -> Tensor:
    """Shift each image by an integer offset in [-s, s] per axis (s = side/8), filling with zeros."""
    _, _, h, w = x.shape
    return _translate(x, generator, int(h * TRANSLATION_RATIO + 0.5), int(w * TRANSLATION_RATIO + 0.5), "constant")


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


def diff_augment(x: Tensor, policy: list[str], generator: torch.Generator, p: float = 1.0) -> Tensor:
    """Apply the named augmentations in the paper's order (color, translation, cutout); with ``p`` < 1 each op
    reaches each image with probability ``p`` (the adaptive augmentation's strength, ``AdaptiveAugment``)."""
    for name in (n for n in ("color", "translation", "cutout") if n in policy):
        op = AUGMENTS.get(name)
        if p >= 1.0:
            x = op(x, generator)
        else:
            hit = (_rand(x, generator) < p).view(-1, *([1] * (x.dim() - 1)))
            x = torch.where(hit, op(x, generator), x)
    return x


class AdaptiveAugment:
    """Adaptive discriminator augmentation's controller (Karras et al. 2020, sec. 3): the strength ``p`` starts at
    0 and, every ``ADA_INTERVAL`` D steps, moves by sign(r_t - target) * (images in the interval) / (``ADA_KIMG`` *
    1000), r_t = E[sign(D(x_real))] over the interval, clipped to [0, 1]. As stylegan2-ada-pytorch's
    training_loop.py (ada_interval 4, ada_kimg 500, target 0.6). r_t reads the sign of D's raw output, so it assumes
    a loss whose real/fake boundary is at 0 (non-saturating, hinge, Wasserstein); it gates ganbench's DiffAugment
    ops per image, not ADA's 18-transform pipeline."""

    def __init__(self, target: float):
        self.target, self.p = float(target), 0.0
        self._signs, self._count, self._steps, self._images = 0.0, 0, 0, 0

    def observe(self, d_real: Tensor) -> None:
        """Account one D step's outputs on reals; adjust ``p`` at the end of an interval."""
        self._signs += float(torch.sign(d_real.detach()).sum())
        self._count += d_real.numel()
        self._images += d_real.shape[0]
        self._steps += 1
        if self._steps % ADA_INTERVAL == 0:
            r_t = self._signs / max(self._count, 1)
            step = self._images / (ADA_KIMG * 1000.0)
            self.p = min(max(self.p + (step if r_t > self.target else -step if r_t < self.target else 0.0), 0.0), 1.0)
            self._signs, self._count, self._images = 0.0, 0, 0

    def state_dict(self) -> dict:
        return {"p": self.p, "signs": self._signs, "count": self._count, "steps": self._steps, "images": self._images}

    def load_state_dict(self, state: dict) -> None:
        self.p, self._signs, self._count = float(state["p"]), float(state["signs"]), int(state["count"])
        self._steps, self._images = int(state["steps"]), int(state["images"])


def consistency_transform(x: Tensor, generator: torch.Generator) -> Tensor:
    """The T of consistency regularisation (Zhang et al. 2020; Zhao et al. 2021's bCR): a horizontal flip with
    probability 1/2, then a shift by up to floor(side/8) pixels per axis with reflected borders, as
    PyTorch-StudioGAN's src/utils/cr.py ``apply_diffaug4cr``."""
    n, _, h, w = x.shape
    flip = (_rand(x, generator) < 0.5).view(n, 1, 1, 1)
    x = torch.where(flip, x.flip(3), x)
    return _translate(x, generator, int(h * TRANSLATION_RATIO), int(w * TRANSLATION_RATIO), "reflect")
