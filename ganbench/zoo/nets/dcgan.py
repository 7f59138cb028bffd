"""DCGAN nets (Radford et al. 2016) and the InfoGAN-style variant used by Lucic et al. 2018.

``standard``: G = transposed convs 4x4 stride 2 with batch norm and ReLU, tanh output; D = strided
convs 4x4 with LeakyReLU(0.2), no norm on the first layer. Channels double per downsampling from
the width w (at 32 px: G 4w-2w-w, D w-2w-4w). Weights ~ N(0, 0.02), as in the paper.
``infogan``: G = FC 1024, FC 128 x R/4 x R/4, deconv 64, deconv C; D = conv 64, conv 128,
FC 1024, FC 1 (Chen et al. 2016, app. C; Lucic et al. 2018, table 7), for w = 64.
"""

from __future__ import annotations

from torch import Tensor, nn

from ...config import ArchSpec
from . import net_family, norm1d, norm2d, upsampling_plan


def dcgan_init(net: nn.Module) -> nn.Module:
    """Radford et al. 2016: every weight ~ N(0, 0.02); batch norm scales ~ N(1, 0.02), biases 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return net


class DCGANGenerator(nn.Module):
    """z ``(N, z_dim)`` -> images ``(N, C, R, R)`` in [-1, 1], R = s0 * 2**k."""

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int):
        super().__init__()
        self.z_dim = z_dim
        s0, k = upsampling_plan(resolution)
        c = width * 2 ** (k - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, c, s0, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        for _ in range(k - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Images ``(N, C, R, R)`` -> logits ``(N,)``."""

    def __init__(self, channels: int, resolution: int, width: int, norm: str):
        super().__init__()
        s0, k = upsampling_plan(resolution)
        c = width
        layers: list[nn.Module] = [nn.Conv2d(channels, c, 4, 2, 1), nn.LeakyReLU(0.2)]
        for _ in range(k - 1):
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1, bias=norm == "none"), norm2d(norm, 2 * c), nn.LeakyReLU(0.2)]
            c *= 2
        layers.append(nn.Conv2d(c, 1, s0, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).view(-1)


class InfoGANGenerator(nn.Module):
    """z ``(N, z_dim)`` -> images ``(N, C, R, R)``, R divisible by 4."""

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int):
        super().__init__()
        self.z_dim, self.c, self.s = z_dim, 2 * width, resolution // 4
        hidden = 16 * width
        self.fc = nn.Sequential(
            nn.Linear(z_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, self.c * self.s ** 2, bias=False), nn.BatchNorm1d(self.c * self.s ** 2), nn.ReLU(),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(self.c, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.conv(self.fc(z).view(z.shape[0], self.c, self.s, self.s))


class InfoGANDiscriminator(nn.Module):
    """Images ``(N, C, R, R)`` -> logits ``(N,)``."""

    def __init__(self, channels: int, resolution: int, width: int, norm: str):
        super().__init__()
        s, hidden = resolution // 4, 16 * width
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=norm == "none"), norm2d(norm, 2 * width), nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * width * s * s, hidden, bias=norm == "none"), norm1d(norm, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).view(-1)


VARIANTS = {"standard": (DCGANGenerator, DCGANDiscriminator), "infogan": (InfoGANGenerator, InfoGANDiscriminator)}


@net_family("dcgan", "DCGAN conv nets, batch norm in G, LeakyReLU in D (Radford et al. 2016); "
            "variant infogan (Lucic et al. 2018)", variants=tuple(VARIANTS), d_norms=("batch", "layer", "none"))
def build(arch: ArchSpec, shape: tuple, d_norm: str):
    g_cls, d_cls = VARIANTS[arch.variant]
    channels, resolution = shape[0], shape[1]
    G = g_cls(arch.z_dim, channels, resolution, arch.width)
    D = d_cls(channels, resolution, arch.width, d_norm)
    return dcgan_init(G), dcgan_init(D)
