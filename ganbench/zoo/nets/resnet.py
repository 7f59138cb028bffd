"""The SNGAN CIFAR ResNet (Miyato et al. 2018, table 4; after Gulrajani et al. 2017).

G: z -> linear to 4w x s0 x s0 -> k up-blocks (BN, ReLU, nearest x2, conv3x3, BN, ReLU, conv3x3;
1x1 shortcut) -> BN, ReLU, conv3x3, tanh. D: an "optimized" first down-block, down-blocks until
8x8 (7x7 at 28 px), two plain blocks at 2w channels, ReLU, global sum pooling, linear. At 32 px and
w = 64 this is the paper's net: G 256 channels, D 128. Init: Xavier uniform, gain sqrt(2) inside
residual branches, 1 elsewhere (the authors' chainer code).
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from ...config import ArchSpec
from .. import double_backward as db
from .base import net_family, output_activation, upsampling_plan


class GBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(c_in), nn.BatchNorm2d(c_out)
        self.conv1, self.conv2 = nn.Conv2d(c_in, c_out, 3, 1, 1), nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1, 1, 0)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    """Pre-activation residual block; ``first``: no leading ReLU and pooling before the shortcut conv. Its convolutions
    and ReLUs have cheap second derivatives (``zoo.double_backward``), for a penalty on D's gradient."""

    def __init__(self, c_in: int, c_out: int, down: bool, first: bool = False):
        super().__init__()
        self.down, self.first = down, first
        self.conv1, self.conv2 = db.Conv2d(c_in, c_out, 3, 1, 1), db.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = db.Conv2d(c_in, c_out, 1, 1, 0) if (down or c_in != c_out) else None

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else db.relu(x)
        h = self.conv2(db.relu(self.conv1(h)))
        if self.down:
            h = db.avg_pool2d(h, 2)
        s = x
        if self.first:
            s = self.shortcut(db.avg_pool2d(x, 2))
        elif self.shortcut is not None:
            s = self.shortcut(s)
            s = db.avg_pool2d(s, 2) if self.down else s
        return h + s


class ResNetGenerator(nn.Module):
    """z ``(N, z_dim)`` -> images ``(N, C, R, R)`` through ``output`` (tanh: [-1, 1])."""

    def __init__(self, z_dim: int, channels: int, resolution: int, width: int, output: str = "tanh"):
        super().__init__()
        self.z_dim, self.c = z_dim, 4 * width
        self.s0, k = upsampling_plan(resolution)
        self.linear = nn.Linear(z_dim, self.c * self.s0 ** 2)
        self.blocks = nn.Sequential(*(GBlock(self.c, self.c) for _ in range(k)))
        self.out = nn.Sequential(nn.BatchNorm2d(self.c), nn.ReLU(), nn.Conv2d(self.c, channels, 3, 1, 1), output_activation(output))

    def forward(self, z: Tensor) -> Tensor:
        return self.out(self.blocks(self.linear(z).view(z.shape[0], self.c, self.s0, self.s0)))


class ResNetDiscriminator(nn.Module):
    """Images ``(N, C, R, R)`` -> critic values ``(N,)``."""

    def __init__(self, channels: int, resolution: int, width: int):
        super().__init__()
        c = 2 * width
        blocks, size = [DBlock(channels, c, down=True, first=True)], resolution // 2
        while size > 8:
            blocks.append(DBlock(c, c, down=True))
            size //= 2
        blocks += [DBlock(c, c, down=False), DBlock(c, c, down=False)]
        self.blocks = nn.Sequential(*blocks)
        self.linear = nn.Linear(c, 1)

    def features(self, x: Tensor) -> Tensor:
        """ReLU and global sum pooling of the last block, ``(N, 2w)``: the input of the last layer."""
        return db.relu(self.blocks(x)).sum(dim=(2, 3))

    def apply_head(self, f: Tensor) -> Tensor:
        return self.linear(f)

    def forward(self, x: Tensor) -> Tensor:
        return self.apply_head(self.features(x)).view(-1)


def xavier_init(net: nn.Module) -> nn.Module:
    for name, m in net.named_modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            residual = name.endswith(("conv1", "conv2"))
            nn.init.xavier_uniform_(m.weight, gain=math.sqrt(2) if residual else 1.0)
            nn.init.zeros_(m.bias)
    return net


@net_family("resnet", "SNGAN CIFAR ResNet: 3 up-blocks in G, 4 blocks in D at 32 px (Miyato et al. 2018)",
            d_norms=("none",))
def build(arch: ArchSpec, shape: tuple, d_norm: str):
    channels, resolution = shape[0], shape[1]
    G = ResNetGenerator(arch.z_dim, channels, resolution, arch.width, arch.output)
    D = ResNetDiscriminator(channels, resolution, arch.width)
    return xavier_init(G), xavier_init(D)
