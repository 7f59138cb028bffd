"""2-D mixtures of Gaussians for the toy benchmark (Metz et al. 2017; Srivastava et al. 2017).

``ring``: 8 modes evenly spaced on a circle of radius 2, std 0.02. ``grid``: 25 modes on the
5x5 grid {-4, -2, 0, 2, 4}^2, std 0.05. Samples are float32 ``(N, 2)``, drawn with an explicit
``torch.Generator``: mode uniform, then isotropic Gaussian noise.
"""

from __future__ import annotations

import math
from typing import Callable
from dataclasses import dataclass

import torch

from ..registry import Registry


@dataclass(frozen=True)
class Mixture:
    name: str
    centers: torch.Tensor  # (K, 2) float32
    std: float
    description: str

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` points ``(n, 2)`` on CPU."""
        idx = torch.randint(len(self.centers), (n,), generator=generator)
        return self.centers[idx] + self.std * torch.randn(n, 2, generator=generator)


def ring(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Mixture:
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    centers = radius * torch.stack([angles.cos(), angles.sin()], dim=1)
    return Mixture("ring", centers.float(), std, f"{modes} Gaussians on a ring of radius {radius:g}, std {std:g}")


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    centers = torch.cartesian_prod(axis, axis)
    return Mixture("grid", centers, std, f"{side * side} Gaussians on a {side}x{side} grid, spacing {spacing:g}, "
                                         f"std {std:g}")


MIXTURES: Registry[Callable[[], Mixture]] = Registry("toy mixture")
MIXTURES.add("ring", ring)
MIXTURES.add("grid", grid)


def get_mixture(name: str) -> Mixture:
    return MIXTURES.get(name)()
