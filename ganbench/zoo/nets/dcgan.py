"""DCGAN nets (Radford et al. 2016) and the InfoGAN-style variant used by Lucic et al. 2018.

``standard``: G = transposed convs 4x4 stride 2 with batch norm and ReLU, tanh output (or ``arch.output``); D = strided
convs 4x4 with LeakyReLU(0.2), no norm on the first layer. Channels double per downsampling from
the width w (at 32 px: G 4w-2w-w, D w-2w-4w). Weights ~ N(0, 0.02), as in the paper.
``infogan``: G = FC 1024, FC 128 x R/4 x R/4, deconv 64, deconv C; D = conv 64, conv 128,
FC 1024, FC 1 (Chen et al. 2016, app. C; Lucic et al. 2018, table 7), for w = 64, written to match
google/compare_gan v1 (``abstract_gan.py``, ``ops.py``): leaky ReLU 0.2 in both nets, biases everywhere,
batch norm with decay 0.999 and epsilon 1e-3, TF's initialisers.
"""

from __future__ import annotations

from torch import Tensor, nn

from ...config import ArchSpec
from .. import double_backward as db
from .base import net_family, norm1d, norm2d, output_activation, upsampling_plan


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
    """z ``(N, z_dim)`` -> images ``(N, C, R, R)``, R = s0 * 2**k, through ``output`` (tanh: [-1, 1])."""

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int, output: str = "tanh"):
        super().__init__()
        self.z_dim = z_dim
        s0, k = upsampling_plan(resolution)
        c = width * 2 ** (k - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, c, s0, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        for _ in range(k - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), output_activation(output)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))


class DCGANDiscriminator(nn.Module):
    """Images ``(N, C, R, R)`` -> logits ``(N,)``."""

    def __init__(self, channels: int, resolution: int, width: int, norm: str):
        super().__init__()
        s0, k = upsampling_plan(resolution)
        c = width
        layers: list[nn.Module] = [db.Conv2d(channels, c, 4, 2, 1), db.LeakyReLU(0.2)]
        for _ in range(k - 1):
            layers += [db.Conv2d(c, 2 * c, 4, 2, 1, bias=norm == "none"), norm2d(norm, 2 * c), db.LeakyReLU(0.2)]
            c *= 2
        layers.append(db.Conv2d(c, 1, s0, 1, 0))  # a linear map of the flattened c x s0 x s0 features
        self.net = nn.Sequential(*layers)
        self.map_shape = (c, s0, s0)

    def features(self, x: Tensor) -> Tensor:
        """The input of the last layer, flattened: ``(N, c * s0 * s0)``."""
        return self.net[:-1](x).flatten(1)

    def apply_head(self, f: Tensor) -> Tensor:
        return self.net[-1](f.view(f.shape[0], *self.map_shape))

    def forward(self, x: Tensor) -> Tensor:
        return self.apply_head(self.features(x)).view(-1)


#: compare_gan's batch norm (ops.batch_norm: tf.contrib.layers.batch_norm, decay 0.999, epsilon 0.001).
LUCIC_BN = {"momentum": 1e-3, "eps": 1e-3}
#: compare_gan's leaky ReLU slope (ops.lrelu), used in G and D alike.
LUCIC_SLOPE = 0.2


class InfoGANGenerator(nn.Module):
    """z ``(N, z_dim)`` -> images ``(N, C, R, R)``, R divisible by 4 (compare_gan v1, ``AbstractGAN.generator``).

    FC 16w -> BN -> lrelu -> FC 2w*(R/4)^2 -> BN -> lrelu -> deconv 4x4/2 to w -> BN -> lrelu -> deconv 4x4/2
    to C -> ``output``: the Lucic specs set sigmoid (``arch.output``), compare_gan's ``tf.nn.sigmoid`` on its
    [0, 1] data. Tanh on [-1, 1] is *not* the same model: tanh(a) = 2 sigmoid(2a) - 1 doubles the last layer's
    effective init scale, D's zero padding becomes mid-grey, and a gradient-norm target of 1 on [-1, 1] is a
    target of 2 on [0, 1]. w = 64 gives the paper's 1024 / 128x7x7 / 64 (Lucic et al. 2018, table 7). Every
    layer keeps its bias, as ops.linear and ops.deconv2d do.
    """

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int, output: str = "tanh"):
        super().__init__()
        self.z_dim, self.c, self.s = z_dim, 2 * width, resolution // 4
        hidden, act = 16 * width, (lambda: nn.LeakyReLU(LUCIC_SLOPE))
        self.fc = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.BatchNorm1d(hidden, **LUCIC_BN), act(),
            nn.Linear(hidden, self.c * self.s ** 2), nn.BatchNorm1d(self.c * self.s ** 2, **LUCIC_BN), act(),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(self.c, width, 4, 2, 1), nn.BatchNorm2d(width, **LUCIC_BN), act(),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), output_activation(output),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.conv(self.fc(z).view(z.shape[0], self.c, self.s, self.s))


class InfoGANDiscriminator(nn.Module):
    """Images ``(N, C, R, R)`` -> logits ``(N,)`` (compare_gan v1, ``AbstractGAN.discriminator``).

    conv 4x4/2 w -> lrelu -> conv 4x4/2 2w -> [BN] -> lrelu -> FC 16w -> [BN] -> lrelu -> FC 1; the
    bracketed batch norms are compare_gan's ``discriminator_batchnorm`` (our ``d_norm``).
    """

    def __init__(self, channels: int, resolution: int, width: int, norm: str):
        super().__init__()
        s, hidden, act = resolution // 4, 16 * width, (lambda: db.LeakyReLU(LUCIC_SLOPE))
        self.net = nn.Sequential(
            db.Conv2d(channels, width, 4, 2, 1), act(),
            db.Conv2d(width, 2 * width, 4, 2, 1), norm2d(norm, 2 * width, **LUCIC_BN), act(),
            nn.Flatten(),
            nn.Linear(2 * width * s * s, hidden), norm1d(norm, hidden, **LUCIC_BN), act(),
            nn.Linear(hidden, 1),
        )

    def features(self, x: Tensor) -> Tensor:
        """The input of the last layer, ``(N, 16w)``."""
        return self.net[:-1](x)

    def apply_head(self, f: Tensor) -> Tensor:
        return self.net[-1](f)

    def forward(self, x: Tensor) -> Tensor:
        return self.apply_head(self.features(x)).view(-1)


def lucic_init(net: nn.Module) -> nn.Module:
    """compare_gan's initialisers: conv kernels ~ truncated N(0, 0.02) (ops.conv2d), linear and deconv
    ~ N(0, 0.02) (ops.linear, ops.deconv2d), biases 0; batch norm scale 1, offset 0 (TF's defaults)."""
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.trunc_normal_(m.weight, 0.0, 0.02, -0.04, 0.04)  # TF truncates at 2 std
        elif isinstance(m, (nn.Linear, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.bias is not None:
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return net


VARIANTS = {"standard": (DCGANGenerator, DCGANDiscriminator), "infogan": (InfoGANGenerator, InfoGANDiscriminator)}


@net_family("dcgan", "DCGAN conv nets, batch norm in G, LeakyReLU in D (Radford et al. 2016); "
            "variant infogan (Lucic et al. 2018)", variants=tuple(VARIANTS), d_norms=("batch", "layer", "none"))
def build(arch: ArchSpec, shape: tuple, d_norm: str):
    g_cls, d_cls = VARIANTS[arch.variant]
    channels, resolution = shape[0], shape[1]
    G = g_cls(arch.z_dim, channels, resolution, arch.width, arch.output)
    D = d_cls(channels, resolution, arch.width, d_norm)
    init = lucic_init if arch.variant == "infogan" else dcgan_init
    return init(G), init(D)
