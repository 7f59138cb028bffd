"""Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier trained only on generated (image, label)
pairs, tested on the real reference images; top-1 and per-class accuracy.

The classifier and its recipe are fixed, named and recorded: grayscale images get ``cnn`` (two 3x3 conv layers
of 32 and 64 channels with max pooling, a 128-unit hidden layer: the Keras MNIST CNN), RGB images get
``resnet20`` (He et al. 2016, sec. 4.2: 3 stages of 3 basic blocks, 16/32/64 channels). Recipe: inputs in
[-1, 1], Adam lr 1e-3, batch 64, 10 epochs over the training set, weights and order from seed 0, evaluation in
eval mode. Trained on real training images instead (the table's real-data row) it gives the ceiling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import BadInput
from .registry import Column, Context, metric


@dataclass(frozen=True)
class Recipe:
    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0


RECIPE = Recipe()


class SmallCNN(nn.Module):
    """conv3x3 32 - ReLU - conv3x3 64 - ReLU - maxpool 2 - FC 128 - ReLU - FC K, on (C, R, R) inputs."""

    name = "cnn"

    def __init__(self, channels: int, resolution: int, num_classes: int):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(channels, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                                      nn.MaxPool2d(2), nn.Flatten())
        side = (resolution - 4) // 2
        self.head = nn.Sequential(nn.Linear(64 * side * side, 128), nn.ReLU(), nn.Linear(128, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class _Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out)
        self.c2, self.b2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out)
        self.short = nn.Sequential() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))) + self.short(x))


class ResNet20(nn.Module):
    """He et al. 2016's CIFAR ResNet-20 (projection shortcuts where the shape changes)."""

    name = "resnet20"

    def __init__(self, channels: int, resolution: int, num_classes: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        c = 16
        for stage, width in enumerate((16, 32, 64)):
            for i in range(3):
                layers.append(_Block(c, width, 2 if (stage and i == 0) else 1))
                c = width
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def classifier_for(channels: int, resolution: int, num_classes: int, seed: int = 0) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cls = SmallCNN if channels == 1 else ResNet20
        return cls(channels, resolution, num_classes)


def image_shape(dim: int) -> tuple[int, int, int]:
    """(C, R, R) of flattened square images of ``dim`` values: 3 channels when dim / 3 is a square, else 1."""
    for c in (3, 1):
        r = math.isqrt(dim // c)
        if dim % c == 0 and r * r * c == dim:
            return c, r, r
    raise BadInput(f"CAS: {dim} pixel values are not square 1- or 3-channel images")


def train_classifier(x: torch.Tensor, y: torch.Tensor, num_classes: int, recipe: Recipe = RECIPE,
                     device: torch.device | str = "cpu") -> nn.Module:
    """The fixed recipe on uint8-valued images ``(N, C, R, R)`` (float) with labels ``(N,)``."""
    c, r = x.shape[1], x.shape[2]
    net = classifier_for(c, r, num_classes, recipe.seed).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    gen = torch.Generator().manual_seed(recipe.seed)
    data = x.div(127.5).sub(1.0)
    net.train()
    for _ in range(recipe.epochs):
        perm = torch.randperm(len(data), generator=gen)
        for i in range(0, len(perm), recipe.batch_size):
            idx = perm[i:i + recipe.batch_size]
            loss = F.cross_entropy(net(data[idx].to(device)), y[idx].to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor, num_classes: int,
             device: torch.device | str = "cpu") -> tuple[float, dict[int, float]]:
    """Top-1 accuracy and per-class accuracy of ``net`` on ``(x, y)``."""
    pred = torch.cat([net(x[i:i + 500].div(127.5).sub(1.0).to(device)).argmax(1).cpu()
                      for i in range(0, len(x), 500)])
    right = pred == y
    per = {k: float(right[y == k].float().mean()) for k in range(num_classes) if (y == k).any()}
    return float(right.float().mean()), per


def cas(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor,
        num_classes: int, recipe: Recipe = RECIPE) -> tuple[float, dict[int, float]]:
    """CAS of a training set (generated images, or real ones for the ceiling) on a test set."""
    net = train_classifier(train_x, train_y, num_classes, recipe)
    return accuracy(net, test_x, test_y, num_classes)


def _images(flat: torch.Tensor) -> torch.Tensor:
    return flat.view(len(flat), *image_shape(flat.shape[1]))


@metric("cas", columns=(Column("cas", "CAS %", "higher", scale=100, digits=1, bounds=(0, 1)),), features=("pixels",),
        space=lambda p: f"pixels; classifier cnn (gray) / resnet20 (RGB), {asdict(RECIPE)}", needs_labels=True,
        description="classification accuracy score (Ravuri & Vinyals 2019): a classifier trained on the samples "
                    "and their labels, tested on the labelled reference")
def _cas(ctx: Context) -> dict[str, float]:
    ref = ctx.ref()
    k = int(max(int(ref.labels.max()), int(ctx.samples.labels.max())) + 1)
    top1, per = cas(_images(ctx.samples.features["pixels"]), ctx.samples.labels,
                    _images(ctx.ref_features("pixels")), ref.labels, k)
    return {"cas": top1, **{f"cas/{c}": v for c, v in per.items()}}
