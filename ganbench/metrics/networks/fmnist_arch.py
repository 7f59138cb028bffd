"""The Fashion-MNIST domain network's architecture and its fixed training recipe (no ganbench imports beyond torch:
``scripts/train_domain_net.py`` trains it, ``metrics.networks.fmnist`` serves its features)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

#: Fashion-MNIST's training-split pixel mean and std (of uint8 / 255), the input normalisation.
MEAN, STD = 0.2860, 0.3530
FEATURE_DIM = 128


class FMNISTNet(nn.Module):
    """Two 3x3 conv layers of 32, max pool, two of 64, max pool, max pool, FC 128 (the feature, after its ReLU),
    FC 10; ReLU throughout, no batch norm (features do not depend on running statistics). On 1x28x28 inputs:
    about 140k parameters (560 KB in float32)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()

        def conv(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]

        self.body = nn.Sequential(*conv(1, 32), *conv(32, 32), nn.MaxPool2d(2), *conv(32, 64), *conv(64, 64),
                                  nn.MaxPool2d(2), nn.MaxPool2d(2), nn.Flatten(),
                                  nn.Linear(64 * 3 * 3, FEATURE_DIM), nn.ReLU())
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    @staticmethod
    def prepare(images: torch.Tensor) -> torch.Tensor:
        """uint8 ``(N, 1, 28, 28)`` -> the normalised float input."""
        return (images.float() / 255.0 - MEAN) / STD

    def features(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(self.prepare(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


@dataclass(frozen=True)
class Recipe:
    """How the shipped weights were trained, once (scripts/train_domain_net.py): the whole training split, Adam,
    random 2-pixel shifts and horizontal flips, seed 0, one torch thread."""

    epochs: int = 8
    batch_size: int = 128
    lr: float = 1e-3
    lr_drop_epochs: tuple[int, ...] = (5, 7)  # lr x 0.1 at these epochs
    shift: int = 2
    seed: int = 0


RECIPE = Recipe()
