"""Net families (dcgan, mlp, resnet, pggan), registered in ``NETS``; ``build_nets`` makes a spec's G and D.

See ``ganbench.zoo.nets.base`` for what a family's ``build(arch, shape, d_norm)`` must return.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ...config import OUTPUT_RANGES, ArchSpec
from ...errors import BadInput
from ..conditioning import ConditionalD, ConditionalG, conditional, d_input_shape, feature_dim, g_latent_size
from ..regularizers import spectral_norm_all
from . import dcgan, mlp, pggan, resnet  # noqa: F401  (each registers its family)
from .base import NETS, NetFamily, check_shape, norm1d, norm2d, split_batches, upsampling_plan

__all__ = ["NETS", "NetFamily", "build_nets", "check_shape", "norm1d", "norm2d", "split_batches", "upsampling_plan"]


#: The most parameters G and D may hold together (4 GB of float32 weights; training keeps about 4x that).
MAX_PARAMETERS = 1_000_000_000


def check_size(family: NetFamily, arch: ArchSpec, shape: tuple, d_norm: str) -> None:
    """A one-line ``BadInput`` for nets too large to allocate (``arch: {width: 100000000}``), found by building them
    on the meta device (no memory, milliseconds) and counting their parameters."""
    try:
        with torch.device("meta"):
            G, D = family.build(arch, shape, d_norm)
    except (RuntimeError, ValueError, MemoryError, OverflowError) as e:
        raise BadInput(f"{family.name} nets with width {arch.width}, z_dim {arch.z_dim} cannot be built "
                       f"({str(e).splitlines()[0][:120]}); reduce arch.width") from None
    n = sum(p.numel() for net in (G, D) for p in net.parameters())
    if n > MAX_PARAMETERS:
        raise BadInput(f"{family.name} nets with width {arch.width}, z_dim {arch.z_dim} would hold {n:,} parameters "
                       f"(more than {MAX_PARAMETERS:,}: {4 * n / 2**30:,.0f} GiB of weights alone); reduce arch.width")


def check_buildable(arch: ArchSpec, shape: tuple) -> None:
    """``check_size`` for a spec's arch and the samples' shape (what ``plan`` asks before any work)."""
    family = NETS.get(arch.name)
    check_shape(family, tuple(shape))
    check_size(family, arch, tuple(shape), family.resolve_d_norm(arch.d_norm))


def build_nets(arch: ArchSpec, shape: tuple, spectral_norm_g: bool = False, spectral_norm_d: bool = False,
               seed: int = 0, num_classes: int = 0) -> tuple[nn.Module, nn.Module]:
    """G and D for ``arch`` producing ``shape``, initialised from ``seed`` (global RNG left untouched).

    A conditional ``arch`` (``g_conditioning`` / ``d_conditioning``, see ``zoo.conditioning``) wraps the
    family's nets as ``G(z, c)`` and ``D(x, c) -> Heads`` for ``num_classes`` classes.
    """
    family = NETS.get(arch.name)
    check_shape(family, tuple(shape))
    cond = conditional(arch.g_conditioning, arch.d_conditioning)
    if cond and num_classes < 2:
        raise BadInput(f"{arch.g_conditioning}/{arch.d_conditioning} conditioning needs a labelled dataset with at "
                       f"least 2 classes (got {num_classes}); use a dataset with labels or an unconditional model")
    d_norm = family.resolve_d_norm(arch.d_norm)
    check_size(family, arch, tuple(shape), d_norm)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if not cond:
            G, D = family.build(arch, tuple(shape), d_norm)
        else:
            g_arch = dataclasses.replace(arch, z_dim=g_latent_size(arch.g_conditioning, arch.z_dim, num_classes))
            G, D = family.build(g_arch, tuple(shape), d_norm)
            d_shape = d_input_shape(arch.d_conditioning, tuple(shape), num_classes)
            if d_shape != tuple(shape):
                _, D = family.build(arch, d_shape, d_norm)
            G = ConditionalG(G, num_classes, arch.g_conditioning, arch.z_dim)
            D = ConditionalD(D, num_classes, arch.d_conditioning, feature_dim(D, d_shape))
        G.z_dist = arch.z_dist  # read by the sampler (ganbench.zoo.latent)
        G.value_range = OUTPUT_RANGES[arch.output]  # read where samples become uint8 (ganbench.zoo.sampler)
        if spectral_norm_g:
            spectral_norm_all(G)
        if spectral_norm_d:
            spectral_norm_all(D)
    return G, D
