"""DiffAugment: shapes, gradients, reproducibility, and each op's effect checked by hand."""

import pytest
import torch

from ganbench.errors import BadInput
from ganbench.zoo import augment
from ganbench.zoo.augment import diff_augment, parse_policy


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_shape_gradient_and_seed():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = diff_augment(x, ["color", "translation", "cutout"], gen())
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert torch.equal(y, diff_augment(x, ["color", "translation", "cutout"], gen()))


def test_translation_is_an_integer_shift_with_zero_fill():
    x = torch.arange(8 * 8, dtype=torch.float32).view(1, 1, 8, 8) + 1
    y = augment.translation(x, gen(3))
    # find the shift: every non-zero output pixel equals the input shifted by (dy, dx), |d| <= 1 (8/8)
    matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
               if torch.equal(y, torch.nn.functional.pad(x, (1, 1, 1, 1))[..., 1 - dy:9 - dy, 1 - dx:9 - dx])]
    assert len(matches) == 1


def test_cutout_zeroes_at_most_a_quarter():
    x = torch.ones(64, 1, 16, 16)
    y = augment.cutout(x, gen())
    zeros = (y == 0).flatten(1).sum(1)
    assert zeros.max() == 64 and zeros.min() >= 16  # an 8x8 square, clipped by the border to at least 4x4
    assert set(y.unique().tolist()) <= {0.0, 1.0}


def test_color_keeps_constant_images_constant_per_image():
    x = torch.full((4, 3, 8, 8), 0.2)
    y = augment.color(x, gen())
    assert torch.allclose(y.flatten(1).std(1), torch.zeros(4), atol=1e-6)  # brightness shift only


def test_parse_policy():
    assert parse_policy("translation, cutout") == ["translation", "cutout"] and parse_policy("") == []
    with pytest.raises(BadInput, match="known: color"):
        parse_policy("flip")
