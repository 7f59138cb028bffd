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


def test_ada_moves_p_by_the_interval_images_over_500_kimg_and_clips_at_zero():
    """stylegan2-ada-pytorch training_loop.py: adjust = sign(r_t - target) * batch * interval / (ada_kimg * 1000)."""
    ada = augment.AdaptiveAugment(0.6)
    for _ in range(3):
        ada.observe(torch.ones(8))
    assert ada.p == 0.0  # not before the 4th step of the interval
    ada.observe(torch.ones(8))
    assert ada.p == pytest.approx(32 / 500_000)
    for _ in range(4):  # r_t = -1 < 0.6: down by as much, then clipped at 0
        ada.observe(-torch.ones(8))
    assert ada.p == 0.0
    for _ in range(8):
        ada.observe(torch.tensor([1.0, 1.0, 1.0, 1.0, -1.0]))  # r_t = 0.6: no move
    assert ada.p == 0.0
    ada.p = 0.5
    state = ada.state_dict()
    again = augment.AdaptiveAugment(0.6)
    again.load_state_dict(state)
    assert again.p == 0.5


def test_diff_augment_at_strength_p_applies_each_op_to_a_fraction_of_the_images():
    x = torch.ones(400, 1, 16, 16)
    assert torch.equal(diff_augment(x, ["cutout"], gen(), p=0.0), x)
    cut = diff_augment(x, ["cutout"], gen(), p=0.3)
    hit = (cut != 1).flatten(1).any(1).float().mean().item()
    assert 0.22 < hit < 0.38  # binomial(400, 0.3): 4 sd either side
    assert torch.equal(diff_augment(x, ["cutout"], gen(), p=1.0), diff_augment(x, ["cutout"], gen()))
