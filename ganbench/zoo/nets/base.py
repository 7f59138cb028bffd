"""The net-family registry and the parts every family shares (norms, the upsampling plan).

Net families: each registers one factory ``build(arch, shape, d_norm) -> (G, D)``.

``shape`` is what G produces: ``(C, H, W)`` images (conv families take H in ``resolutions``)
or ``(2,)`` points for the toy benchmark (mlp only). G maps ``z (N, z_dim)`` to ``(N, *shape)``
in the value range of ``arch.output`` for images ([-1, 1] for tanh, [0, 1] for sigmoid) and has ``.z_dim``; D maps ``(N, *shape)`` to raw outputs ``(N,)`` and exposes
``features(x) -> (N, F)`` (the input of its last linear layer) and ``apply_head(f)``, so that
conditioning (``zoo.conditioning``) can read its features without a copy of the net.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ...config import ArchSpec
from ...errors import BadInput
from ...registry import Registry

Build = Callable[[ArchSpec, tuple, str], "tuple[nn.Module, nn.Module]"]


@dataclass(frozen=True)
class NetFamily:
    name: str
    build: Build
    description: str
    variants: tuple[str, ...]
    d_norms: tuple[str, ...]  # first one is the family's default
    conv: bool  # conv nets train at 28/32/64 px images; 28 px data is padded to CONV_RESOLUTION
    resolutions: tuple[int, ...] = (28, 32, 64)
    #: G output activations the family can end in (arch.output; config.OUTPUT_RANGES gives their value ranges)
    outputs: tuple[str, ...] = ("tanh", "sigmoid")
    #: Train in the channels-last memory format by default (where oneDNN's convolutions measured faster with it)
    channels_last: bool = False

    def resolve_d_norm(self, d_norm: str) -> str:
        return self.d_norms[0] if d_norm == "default" else d_norm


NETS: Registry[NetFamily] = Registry("architecture")


def net_family(name: str, description: str, variants: tuple[str, ...] = ("standard",),
               d_norms: tuple[str, ...] = ("none",), conv: bool = True,
               resolutions: tuple[int, ...] = (28, 32, 64), outputs: tuple[str, ...] = ("tanh", "sigmoid"),
               channels_last: bool = False) -> Callable[[Build], Build]:
    """Register the decorated ``build`` function as the net family ``name``."""
    def deco(build: Build) -> Build:
        NETS.add(name, NetFamily(name, build, description, variants, d_norms, conv, resolutions, outputs,
                                 channels_last))
        return build
    return deco


def check_shape(family: NetFamily, shape: tuple) -> None:
    """A ``BadInput`` unless ``family`` can produce samples of ``shape``."""
    if family.conv:
        if len(shape) != 3 or shape[0] not in (1, 3) or shape[1] != shape[2] or shape[1] not in family.resolutions:
            raise BadInput(f"{family.name} nets make square 1- or 3-channel images at "
                           f"{'/'.join(map(str, family.resolutions))} px, not shape {tuple(shape)}; "
                           "resize the dataset (e.g. --resize 32) or use the mlp nets")


class _SplitBatchNorm:
    """Batch norm that normalises each of ``splits`` equal chunks of the batch on its own.

    D sees real and fake images in one forward (one large matmul instead of two, no gradient
    accumulation); with ``splits = 2`` each half gets its own batch statistics and the running
    statistics are updated half by half, exactly as two separate forwards would do.
    """

    splits = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.splits == 1 or not self.training:
            return super().forward(x)
        return torch.cat([super(_SplitBatchNorm, self).forward(part) for part in x.chunk(self.splits)])


class SplitBatchNorm1d(_SplitBatchNorm, nn.BatchNorm1d):
    pass


class SplitBatchNorm2d(_SplitBatchNorm, nn.BatchNorm2d):
    pass


class split_batches:
    """Context: every module of ``net`` that couples the samples of a batch (split batch norm, PGGAN's minibatch
    standard deviation: any module with a ``splits`` attribute) treats ``n`` equal chunks separately, so one
    forward over real+fake equals two forwards."""

    def __init__(self, net: nn.Module, n: int):
        self.mods = [m for m in net.modules() if hasattr(m, "splits")]
        self.n = n

    def __enter__(self):
        for m in self.mods:
            m.splits = self.n
        return self

    def __exit__(self, *exc):
        for m in self.mods:
            m.splits = 1


def output_activation(kind: str) -> nn.Module:
    """G's last activation (``arch.output``): tanh for [-1, 1] pixels, sigmoid for [0, 1] (compare_gan v1)."""
    return {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[kind]()


def norm2d(kind: str, channels: int, **bn) -> nn.Module:
    """Normalisation of D's conv features: batch (``bn``: momentum, eps), layer (over C, H, W) or none."""
    return {"batch": lambda: SplitBatchNorm2d(channels, **bn), "layer": lambda: nn.GroupNorm(1, channels),
            "none": nn.Identity}[kind]()


def norm1d(kind: str, features: int, **bn) -> nn.Module:
    return {"batch": lambda: SplitBatchNorm1d(features, **bn), "layer": lambda: nn.LayerNorm(features),
            "none": nn.Identity}[kind]()


def upsampling_plan(resolution: int) -> tuple[int, int]:
    """``(s0, k)`` with ``resolution = s0 * 2**k`` and s0 <= 7: 28 -> (7, 2), 32 -> (4, 3), 64 -> (4, 4)."""
    s0, k = resolution, 0
    while s0 > 7 and s0 % 2 == 0:
        s0, k = s0 // 2, k + 1
    return s0, k
