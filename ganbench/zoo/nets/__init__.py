"""Net families (dcgan, mlp, resnet), registered in ``NETS``; ``build_nets`` makes a spec's G and D.

See ``ganbench.zoo.nets.base`` for what a family's ``build(arch, shape, d_norm)`` must return.
"""

from __future__ import annotations

import torch
from torch import nn

from ...config import ArchSpec
from ..regularizers import spectral_norm_all
from . import dcgan, mlp, resnet  # noqa: F401  (each registers its family)
from .base import NETS, NetFamily, check_shape, norm1d, norm2d, split_batches, upsampling_plan

__all__ = ["NETS", "NetFamily", "build_nets", "check_shape", "norm1d", "norm2d", "split_batches", "upsampling_plan"]


def build_nets(arch: ArchSpec, shape: tuple, spectral_norm_g: bool = False, spectral_norm_d: bool = False,
               seed: int = 0) -> tuple[nn.Module, nn.Module]:
    """G and D for ``arch`` producing ``shape``, initialised from ``seed`` (global RNG left untouched)."""
    family = NETS.get(arch.name)
    check_shape(family, tuple(shape))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        G, D = family.build(arch, tuple(shape), family.resolve_d_norm(arch.d_norm))
        G.z_dist = arch.z_dist  # read by the sampler (ganbench.zoo.latent)
        if spectral_norm_g:
            spectral_norm_all(G)
        if spectral_norm_d:
            spectral_norm_all(D)
    return G, D
