"""Gradient penalties against closed forms on linear critics; weight clipping; spectral norm."""

import pytest
import torch
from torch import nn

from ganbench.zoo.regularizers import (CONSTRAINTS, PENALTIES, dragan_penalty, gradient_penalty, r1_penalty,
                                       spectral_norm_all)


def linear_critic(w: torch.Tensor) -> nn.Module:
    D = nn.Linear(w.numel(), 1)
    with torch.no_grad():
        D.weight.copy_(w.view(1, -1))
        D.bias.fill_(0.3)
    return nn.Sequential(nn.Flatten(), D)


def test_gradient_penalty_of_unit_norm_linear_critic_is_zero():
    w = torch.randn(3 * 4 * 4, generator=torch.Generator().manual_seed(0))
    D = linear_critic(w / w.norm())
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(8, 3, 4, 4, generator=gen), torch.randn(8, 3, 4, 4, generator=gen)
    assert gradient_penalty(D, real, fake, gen).item() == pytest.approx(0.0, abs=1e-10)
    assert dragan_penalty(D, real, fake, gen).item() == pytest.approx(0.0, abs=1e-10)


def test_penalties_of_scaled_linear_critic_match_closed_form():
    # grad D = w everywhere: GP = DRAGAN = (||w|| - 1)^2, R1 = ||w||^2 / 2.
    w = torch.tensor([3.0, 4.0])  # norm 5
    D = linear_critic(w)
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(5, 2, generator=gen), torch.randn(5, 2, generator=gen)
    assert gradient_penalty(D, real, fake, gen).item() == pytest.approx(16.0, rel=1e-6)
    assert dragan_penalty(D, real, fake, gen).item() == pytest.approx(16.0, rel=1e-6)
    assert r1_penalty(D, real, fake, gen).item() == pytest.approx(12.5, rel=1e-6)


def test_drift_is_the_mean_square_of_the_critic_on_reals():
    # D(x) = w.x + 0.3 with w = (3, 4): drift = mean((w.x + 0.3)^2), by hand on three points.
    D = linear_critic(torch.tensor([3.0, 4.0]))
    real = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, -1.0]])
    expected = (0.3 ** 2 + 3.3 ** 2 + 3.7 ** 2) / 3
    gen = torch.Generator().manual_seed(0)
    assert PENALTIES.get("drift")(D, real, torch.randn(3, 2), gen).item() == pytest.approx(expected, rel=1e-6)


def test_gradient_penalty_backpropagates_to_critic():
    D = linear_critic(torch.tensor([3.0, 4.0]))
    gen = torch.Generator().manual_seed(0)
    gradient_penalty(D, torch.randn(4, 2), torch.randn(4, 2), gen).backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * [0.6, 0.8]
    assert torch.allclose(D[1].weight.grad.view(-1), torch.tensor([4.8, 6.4]), atol=1e-5)


def test_registries_match_trick_fields():
    from ganbench.config import TrickSpec
    fields = set(TrickSpec.__dataclass_fields__)
    assert set(PENALTIES) <= fields and set(CONSTRAINTS) <= fields


def test_weight_clip():
    D = nn.Linear(4, 3)
    with torch.no_grad():
        D.weight.mul_(100)
    CONSTRAINTS.get("weight_clip")(D, 0.01)
    assert all(p.abs().max() <= 0.01 for p in D.parameters())


@pytest.mark.parametrize("make", [lambda: nn.Linear(20, 30), lambda: nn.Conv2d(3, 8, 4, 2, 1),
                                  lambda: nn.ConvTranspose2d(8, 4, 4, 2, 1)])
def test_spectral_norm_brings_top_singular_value_to_one(make):
    torch.manual_seed(0)
    layer = make()
    with torch.no_grad():
        layer.weight.mul_(7.0)
    net = spectral_norm_all(nn.Sequential(layer))
    x = torch.randn(2, 20) if isinstance(layer, nn.Linear) else torch.randn(2, layer.in_channels, 8, 8)
    net.train()
    for _ in range(30):  # one power iteration per training forward
        net(x)
    net.eval()
    w = net[0].weight  # the normalised weight
    dim = 1 if isinstance(layer, nn.ConvTranspose2d) else 0
    matrix = w.transpose(0, dim).flatten(1) if dim else w.flatten(1)
    assert torch.linalg.svdvals(matrix.detach())[0].item() == pytest.approx(1.0, abs=1e-3)


def test_gradient_norm_eps_is_compare_gans_slopes():
    # WGAN_GP.py / DRAGAN.py: slopes = sqrt(0.0001 + sum(g^2)); grad D = w with ||w|| = 5: (sqrt(25.0001) - 1)^2
    D = linear_critic(torch.tensor([3.0, 4.0]))
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(5, 2, generator=gen), torch.randn(5, 2, generator=gen)
    want = (25.0001 ** 0.5 - 1.0) ** 2
    assert gradient_penalty(D, real, fake, gen, eps=1e-4).item() == pytest.approx(want, rel=1e-6)
    assert dragan_penalty(D, real, fake, gen, eps=1e-4).item() == pytest.approx(want, rel=1e-6)
    unit = linear_critic(torch.tensor([0.6, 0.8]))
    # a unit-norm critic is no longer penalty-free: (sqrt(1.0001) - 1)^2 = 2.5e-9 (float32: 0.6^2 + 0.8^2 != 1 exactly)
    assert gradient_penalty(unit, real, fake, gen, eps=1e-4).item() == pytest.approx((1.0001 ** 0.5 - 1) ** 2, rel=1e-2)


def test_dragan_perturbs_with_the_batch_population_std_as_compare_gan():
    """DRAGAN.py get_perturbed_batch: minibatch + 0.5 * minibatch.std() * np.random.random(shape), numpy's std
    (ddof 0); interpolates = x + alpha (x_p - x). With D(x) = sum(x^2) / 2, grad D(x_hat) = x_hat, so the penalty
    is a hand computation from the same uniform draws."""
    import numpy as np

    class Half(nn.Module):
        def forward(self, x):
            return 0.5 * x.flatten(1).square().sum(dim=1)

    real = torch.tensor([[0.0, 1.0, 0.5], [1.0, 1.0, 0.0]])
    gen = torch.Generator().manual_seed(3)
    got = dragan_penalty(Half(), real, real, gen).item()
    replay = torch.Generator().manual_seed(3)
    noise, alpha = torch.rand(real.shape, generator=replay).numpy(), torch.rand(2, generator=replay).numpy()
    x = real.numpy().astype(np.float64)
    perturbed = x + 0.5 * x.std() * noise  # numpy's population std, as DRAGAN.py
    x_hat = alpha[:, None] * x + (1 - alpha[:, None]) * perturbed
    want = ((np.sqrt((x_hat ** 2).sum(axis=1)) - 1) ** 2).mean()
    assert got == pytest.approx(want, rel=1e-6)
