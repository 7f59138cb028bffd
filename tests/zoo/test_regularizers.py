"""Gradient penalties against closed forms on linear critics; weight clipping; spectral norm."""

import pytest
import torch
from torch import nn

from ganbench.zoo.augment import consistency_transform
from ganbench.zoo.regularizers import (CONSTRAINTS, LECAM_START, PENALTIES, PenaltyContext, bcr_penalty,
                                       dragan_penalty, gradient_penalty, lecam_penalty, r1_penalty, spectral_norm_all)


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
    ctx = PenaltyContext(D(real).view(-1), torch.zeros(3), g_steps=0)  # the loss's own forward on the reals
    assert PENALTIES.get("drift")(D, real, torch.randn(3, 2), gen, ctx=ctx).item() == pytest.approx(expected, rel=1e-6)


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


# ---------------------------------------------------------------- LeCam and bCR (PenaltyContext penalties)


def test_lecam_matches_a_hand_computation_with_its_moving_averages():
    """google/lecam-gan biggan_cifar: averages take the step's means first, decay 0 before start_itr (so they follow
    the batch), 0.9 after; the term applies from start_itr + 1."""
    state: dict = {}
    early = PenaltyContext(torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.5]), g_steps=5, state=state)
    assert lecam_penalty(None, None, None, None, ctx=early).item() == 0.0
    assert state["ema_real"].item() == pytest.approx(2.0) and state["ema_fake"].item() == pytest.approx(-0.25)
    d_real = torch.tensor([-0.5, 2.5], requires_grad=True)
    late = PenaltyContext(d_real, torch.tensor([-2.0, 1.0]), g_steps=LECAM_START + 1, state=state)
    value = lecam_penalty(None, None, None, None, ctx=late)
    # ema_real = 0.9 * 2 + 0.1 * 1.0 = 1.9; ema_fake = 0.9 * -0.25 + 0.1 * -0.5 = -0.275
    # relu(d_real + 0.275)^2 = (0, 2.775^2), mean 3.8503125; relu(1.9 - d_fake)^2 = (3.9^2, 0.9^2), mean 8.01
    assert state["ema_real"].item() == pytest.approx(1.9) and state["ema_fake"].item() == pytest.approx(-0.275)
    assert value.item() == pytest.approx(3.8503125 + 8.01, rel=1e-6)
    value.backward()
    assert torch.allclose(d_real.grad, torch.tensor([0.0, 2.775]), atol=1e-6)  # d/dx mean(relu(x - a)^2)


def test_consistency_transform_is_a_flip_then_a_reflected_shift_of_at_most_an_eighth():
    x = torch.arange(16 * 16, dtype=torch.float32).view(1, 1, 16, 16).repeat(64, 1, 1, 1)
    y = consistency_transform(x, torch.Generator().manual_seed(0))
    padded = {flip: torch.nn.functional.pad(x[:1].flip(3) if flip else x[:1], (2, 2, 2, 2), mode="reflect")
              for flip in (False, True)}
    candidates = {(flip, dy, dx): padded[flip][..., 2 - dy:18 - dy, 2 - dx:18 - dx]
                  for flip in (False, True) for dy in range(-2, 3) for dx in range(-2, 3)}  # floor(16 / 8) = 2
    found = [[k for k, c in candidates.items() if torch.equal(y[i:i + 1], c)] for i in range(64)]
    assert all(len(f) >= 1 for f in found)
    flips = sum(f[0][0] for f in found)
    assert 16 <= flips <= 48  # p = 1/2: 64 draws land in [16, 48] with probability > 0.9999


def test_bcr_is_the_squared_output_change_under_the_transform_on_both_sides():
    D = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, 1))
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(5, 1, 8, 8, generator=gen), torch.randn(5, 1, 8, 8, generator=gen)
    ctx = PenaltyContext(D(real), D(fake), g_steps=0)
    value = bcr_penalty(D, real, fake, torch.Generator().manual_seed(7), ctx=ctx)
    again = torch.Generator().manual_seed(7)
    t_real, t_fake = consistency_transform(real, again), consistency_transform(fake, again)
    expected = ((D(real) - D(t_real)) ** 2).mean() + ((D(fake) - D(t_fake)) ** 2).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6) and value.item() > 0
    # a D that only sums the pixels of a constant image cannot tell T(x) from x: the penalty is 0
    flat = nn.Sequential(nn.Flatten(), nn.Linear(64, 1))
    const = torch.full((3, 1, 8, 8), 0.7)
    ctx = PenaltyContext(flat(const), flat(const), g_steps=0)
    assert bcr_penalty(flat, const, const, gen, ctx=ctx).item() == pytest.approx(0.0, abs=1e-10)
