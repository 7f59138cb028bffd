"""PGGAN nets (Karras et al. 2018, "Progressive Growing of GANs"), after the official code (tkarras/
progressive_growing_of_gans, ``networks.py``: ``G_paper``, ``D_paper``).

Both nets are built full-size and the schedule's phase picks the active part: ``set_phase(resolution, alpha)``.
G grows from 4x4: pixel-normalised latents -> dense to nf(1) x 4 x 4 (gain sqrt(2)/4) -> conv3x3 -> then per
resolution: nearest x2 upsampling, conv3x3, conv3x3; leaky ReLU 0.2 and pixelwise feature normalisation after
every layer; a linear 1x1 toRGB per resolution (gain 1). During a fade-in the output is
(1 - alpha) * upsample(toRGB_old(h_old)) + alpha * toRGB_new(h_new). D mirrors it: fromRGB 1x1 + leaky ReLU,
per resolution conv3x3, conv3x3, 2x2 average pooling; at 4x4 the minibatch standard deviation (group 4),
conv3x3, dense nf(0), dense 1 (gain 1); during a fade-in its input is
(1 - alpha) * fromRGB_old(avgpool(x)) + alpha * block(fromRGB_new(x)). Every weight uses the equalised learning
rate: stored ~ N(0, 1), scaled at run time by gain / sqrt(fan_in) (gain sqrt(2) unless stated).
nf(stage) = min(8192 / 2^stage, fmap_max), fmap_max = 2 x arch.width (width 64: 128, the paper's CIFAR-10 nets).
Outside the nets images keep the full resolution: G's output is upsampled (nearest) from the phase's resolution
and D average-pools its input down to it, as the official code does between levels of detail.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...config import ArchSpec
from .. import double_backward
from .base import net_family

FMAP_BASE = 8192  # networks.py: fmap_base
SLOPE = 0.2  # networks.py: leaky_relu alpha
PIXELNORM_EPS = 1e-8  # networks.py: pixelnorm_epsilon
MBSTD_GROUP = 4  # networks.py: mbstd_group_size


class EqualizedLinear(nn.Module):
    """y = x (w * c)^T + b with w ~ N(0, 1) stored and c = gain / sqrt(fan_in) applied at run time."""

    def __init__(self, fan_in: int, fan_out: int, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in))
        self.bias = nn.Parameter(torch.zeros(fan_out))
        self.scale = gain / math.sqrt(fan_in)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualizedConv2d(nn.Module):
    """A stride-1 'same' convolution with the equalised learning rate (fan_in = C_in x k x k); its gradient is cheap
    to differentiate again (``double_backward``: the gradient penalty)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, gain: float = math.sqrt(2)):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.scale = gain / math.sqrt(c_in * kernel * kernel)
        self.pad = kernel // 2

    def forward(self, x: Tensor) -> Tensor:
        return double_backward.conv2d(x, self.weight * self.scale, self.bias, padding=self.pad)


def pixel_norm(x: Tensor, eps: float = PIXELNORM_EPS) -> Tensor:
    """Each pixel's feature vector scaled to unit mean square (paper, sec. 4.2)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + eps)


def minibatch_stddev(x: Tensor, group: int = MBSTD_GROUP) -> Tensor:
    """networks.py ``minibatch_stddev_layer``: split the batch into groups of ``group`` (sample i joins group
    i mod (N / group)), take each feature's std over the group, average it over features and pixels, and append
    it as one more feature map."""
    n, c, h, w = x.shape
    g = min(group, n)
    y = x.reshape(g, -1, c, h, w).float()
    y = (y - y.mean(dim=0, keepdim=True)).pow(2).mean(dim=0)
    y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3)).to(x.dtype)  # (N / g,)
    y = y.view(1, -1, 1, 1, 1).expand(g, -1, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, y], dim=1)


class MinibatchStddev(nn.Module):
    """``minibatch_stddev`` as a module, so ``split_batches`` can make it treat real and fake halves of one forward
    as the two batches they are (``splits``)."""

    splits = 1

    def forward(self, x: Tensor) -> Tensor:
        if self.splits == 1:
            return minibatch_stddev(x)
        return torch.cat([minibatch_stddev(part) for part in x.chunk(self.splits)])


def _act(x: Tensor) -> Tensor:
    return double_backward.leaky_relu(x, SLOPE)


def upsample(x: Tensor, factor: int = 2) -> Tensor:
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def downsample(x: Tensor, factor: int = 2) -> Tensor:
    return x if factor == 1 else double_backward.avg_pool2d(x, factor)


class _Growing(nn.Module):
    """The phase both nets share: the active resolution and the fade-in weight of its newest layers."""

    def __init__(self, resolution: int, fmap_max: int):
        super().__init__()
        self.full = resolution
        self.levels = int(math.log2(resolution))  # 4x4 is level 2
        self.fmap_max = fmap_max
        self.resolution, self.alpha = resolution, 1.0

    def nf(self, stage: int) -> int:
        return min(int(FMAP_BASE / 2.0 ** stage), self.fmap_max)

    def set_phase(self, resolution: int | None, alpha: float = 1.0) -> None:
        resolution = resolution or self.full
        if resolution not in [2 ** k for k in range(2, self.levels + 1)]:
            raise ValueError(f"resolution {resolution} is not a power of 2 between 4 and {self.full}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"fade-in alpha must lie in [0, 1], got {alpha}")
        self.resolution, self.alpha = resolution, float(alpha)

    @property
    def level(self) -> int:
        return int(math.log2(self.resolution))

    def extra_repr(self) -> str:
        return f"resolution={self.resolution}/{self.full}, alpha={self.alpha:g}"


class PGGenerator(_Growing):
    """z ``(N, z_dim)`` -> images ``(N, C, R, R)`` (linear output, as the official G; the sampler maps to uint8)."""

    def __init__(self, z_dim: int, channels: int, resolution: int, fmap_max: int):
        super().__init__(resolution, fmap_max)
        self.z_dim = z_dim
        self.dense = EqualizedLinear(z_dim, self.nf(1) * 16, gain=math.sqrt(2) / 4)  # networks.py: Theano's gain
        self.conv4 = EqualizedConv2d(self.nf(1), self.nf(1), 3)
        self.blocks = nn.ModuleList()
        self.to_rgb = nn.ModuleList([EqualizedConv2d(self.nf(1), channels, 1, gain=1.0)])
        for level in range(3, self.levels + 1):
            c_in, c_out = self.nf(level - 2), self.nf(level - 1)
            self.blocks.append(nn.ModuleList([EqualizedConv2d(c_in, c_out, 3), EqualizedConv2d(c_out, c_out, 3)]))
            self.to_rgb.append(EqualizedConv2d(c_out, channels, 1, gain=1.0))

    def block(self, x: Tensor, level: int) -> Tensor:
        conv0, conv1 = self.blocks[level - 3]
        x = pixel_norm(_act(conv0(upsample(x))))
        return pixel_norm(_act(conv1(x)))

    def forward(self, z: Tensor) -> Tensor:
        x = self.dense(pixel_norm(z)).view(z.shape[0], self.nf(1), 4, 4)
        x = pixel_norm(_act(x))
        x = pixel_norm(_act(self.conv4(x)))
        prev = x
        for level in range(3, self.level + 1):
            prev, x = x, self.block(x, level)
        out = self.to_rgb[self.level - 2](x)
        if self.alpha < 1.0 and self.level > 2:  # fade-in of the newest block
            out = (1.0 - self.alpha) * upsample(self.to_rgb[self.level - 3](prev)) + self.alpha * out
        out = upsample(out, self.full // self.resolution)
        # The official G's output is linear and clipped when made into images (misc.convert_to_pil_image):
        # in eval mode (sampling) it is clipped to [-1, 1] here; training sees the raw output.
        return out if self.training else out.clamp(-1.0, 1.0)


class PGDiscriminator(_Growing):
    """Images ``(N, C, R, R)`` -> critic values ``(N,)``; ``features`` is the input of the last dense layer. The
    minibatch stddev couples samples; under ``split_batches`` it keeps real and fake halves apart."""

    def __init__(self, channels: int, resolution: int, fmap_max: int):
        super().__init__(resolution, fmap_max)
        self.mbstd = MinibatchStddev()
        self.from_rgb = nn.ModuleList([EqualizedConv2d(channels, self.nf(1), 1)])
        self.blocks = nn.ModuleList()
        for level in range(3, self.levels + 1):
            c_in, c_out = self.nf(level - 1), self.nf(level - 2)
            self.from_rgb.append(EqualizedConv2d(channels, c_in, 1))
            self.blocks.append(nn.ModuleList([EqualizedConv2d(c_in, c_in, 3), EqualizedConv2d(c_in, c_out, 3)]))
        self.conv4 = EqualizedConv2d(self.nf(1) + 1, self.nf(1), 3)
        self.dense0 = EqualizedLinear(self.nf(1) * 16, self.nf(0))
        self.dense1 = EqualizedLinear(self.nf(0), 1, gain=1.0)

    def block(self, x: Tensor, level: int) -> Tensor:
        conv0, conv1 = self.blocks[level - 3]
        return downsample(_act(conv1(_act(conv0(x)))))

    def features(self, x: Tensor) -> Tensor:
        x = downsample(x, self.full // self.resolution)
        h = _act(self.from_rgb[self.level - 2](x))
        if self.level > 2:
            h = self.block(h, self.level)
            if self.alpha < 1.0:  # fade-in of the newest block
                old = _act(self.from_rgb[self.level - 3](downsample(x)))
                h = (1.0 - self.alpha) * old + self.alpha * h
        for level in range(self.level - 1, 2, -1):
            h = self.block(h, level)
        h = _act(self.conv4(self.mbstd(h)))
        return _act(self.dense0(h.flatten(1)))

    def apply_head(self, f: Tensor) -> Tensor:
        return self.dense1(f)

    def forward(self, x: Tensor) -> Tensor:
        return self.apply_head(self.features(x)).view(-1)


def fade_reals(x: Tensor, full: int, resolution: int, alpha: float) -> Tensor:
    """Reals as D sees them in a phase (train.py ``process_reals``): area-averaged down to ``resolution``, blended
    during a fade-in with their own 2x2 averages like G's output, and brought back to ``full`` (nearest)."""
    y = downsample(x, full // resolution)
    if alpha < 1.0 and resolution > 4:
        y = alpha * y + (1.0 - alpha) * upsample(downsample(y))
    return upsample(y, full // resolution)


@net_family("pggan", "progressive growing nets: from 4x4, fade-in, pixel norm, minibatch stddev, equalised lr "
            "(Karras et al. 2018)", d_norms=("none",), resolutions=(32, 64), outputs=("tanh",),
            channels_last=True)  # 1.1-1.2x on CPU (scripts/bench_pggan.py), the same numbers
def build(arch: ArchSpec, shape: tuple, d_norm: str):
    channels, resolution = shape[0], shape[1]
    return (PGGenerator(arch.z_dim, channels, resolution, 2 * arch.width),
            PGDiscriminator(channels, resolution, 2 * arch.width))
