"""The fully connected GAN of Goodfellow et al. 2014, as commonly written for MNIST.

G: z -> 256 -> 512 -> 1024 -> C*H*W (tanh); D: C*H*W -> 1024 -> 512 -> 256 -> 1, LeakyReLU(0.2)
everywhere (hidden sizes 4w, 8w, 16w with width w = 64). Variant ``toy``: two hidden layers of
2w = 128 units and a linear output, the 2-D mixture nets of Metz et al. 2017.
Dropout in D, common in MNIST scripts, is left out: it would draw from the global RNG.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ...config import ArchSpec
from .. import double_backward
from .base import net_family, output_activation

HIDDEN = {"standard": (4, 8, 16), "toy": (2, 2)}  # multiples of arch.width


def _stack(sizes: list[int], act: type[nn.Module] = nn.LeakyReLU) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(a, b), act(0.2)]
    return layers + [nn.Linear(sizes[-2], sizes[-1])]


class MLPGenerator(nn.Module):
    """z ``(N, z_dim)`` -> samples ``(N, *shape)``; ``output`` (tanh) for images, linear for points."""

    def __init__(self, z_dim: int, shape: tuple, hidden: tuple[int, ...], output: str = "tanh"):
        super().__init__()
        self.z_dim, self.shape = z_dim, tuple(shape)
        out = [output_activation(output)] if len(shape) == 3 else []
        self.net = nn.Sequential(*_stack([z_dim, *hidden, math.prod(shape)]), *out)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """Samples ``(N, *shape)`` -> logits ``(N,)``; its leaky ReLUs' second derivative is cheap (``double_backward``)."""

    def __init__(self, shape: tuple, hidden: tuple[int, ...]):
        super().__init__()
        self.net = nn.Sequential(*_stack([math.prod(shape), *reversed(hidden), 1], double_backward.LeakyReLU))

    def features(self, x: Tensor) -> Tensor:
        """The input of the last layer, ``(N, F)`` (what a projection or an auxiliary classifier reads)."""
        return self.net[:-1](x.flatten(1))

    def apply_head(self, f: Tensor) -> Tensor:
        return self.net[-1](f)

    def forward(self, x: Tensor) -> Tensor:
        return self.apply_head(self.features(x)).view(-1)


@net_family("mlp", "fully connected GAN nets, 256-512-1024 LeakyReLU (Goodfellow et al. 2014)",
            variants=tuple(HIDDEN), d_norms=("none",), conv=False)
def build(arch: ArchSpec, shape: tuple, d_norm: str):
    hidden = tuple(m * arch.width for m in HIDDEN[arch.variant])
    return MLPGenerator(arch.z_dim, shape, hidden, arch.output), MLPDiscriminator(shape, hidden)
