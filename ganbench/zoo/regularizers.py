"""Discriminator regularizers: penalties added to the D loss, and constraints applied after a D step.

Each penalty is registered under the ``TrickSpec`` field that holds its weight, so the model
applies ``weight * penalty(D, real, fake, generator)`` for every non-zero field. Inputs are
what D saw (after augmentation and instance noise), shape ``(N, ...)``.
"""

from __future__ import annotations

import functools
import inspect
from typing import Callable

import torch
from torch import Tensor, nn

from ..registry import Registry

Penalty = Callable[[nn.Module, Tensor, Tensor, torch.Generator], Tensor]
PENALTIES: Registry[Penalty] = Registry("penalty")
CONSTRAINTS: Registry[Callable[[nn.Module, float], None]] = Registry("constraint")


def _grad_norm(D: nn.Module, x: Tensor, eps: float = 0.0) -> Tensor:
    """Per-sample L2 norm of dD(x)/dx, shape (N,), kept in the graph (double backprop). ``eps`` > 0 gives
    sqrt(eps + sum g^2), compare_gan v1's ``slopes`` (WGAN_GP.py and DRAGAN.py, eps 1e-4)."""
    x = x.detach().requires_grad_(True)
    out = D(x)
    (grad,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    if eps:
        return torch.sqrt(eps + grad.flatten(1).square().sum(dim=1))
    return grad.flatten(1).norm(dim=1)


def with_grad_norm_eps(penalty: Penalty, eps: float) -> Penalty:
    """``penalty`` with the gradient norm's ``eps`` (``tricks.grad_norm_eps``) when it takes one (the penalties on
    a gradient norm do); as it is otherwise."""
    if eps and "eps" in inspect.signature(penalty).parameters:
        return functools.partial(penalty, eps=eps)
    return penalty


def _uniform(n: int, like: Tensor, generator: torch.Generator) -> Tensor:
    """U[0, 1) of shape (N, 1, 1, ...) to broadcast against ``like``."""
    u = torch.rand(n, generator=generator, device=like.device, dtype=like.dtype)
    return u.view(n, *([1] * (like.dim() - 1)))


@PENALTIES.register("gradient_penalty")
def gradient_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator,
                     eps: float = 0.0) -> Tensor:
    """WGAN-GP: E[(||grad D(x_hat)|| - 1)^2], x_hat uniform on segments real-fake (Gulrajani et al. 2017, eq. 3)."""
    u = _uniform(real.shape[0], real, generator)
    x_hat = u * real.detach() + (1.0 - u) * fake.detach()
    return ((_grad_norm(D, x_hat, eps) - 1.0) ** 2).mean()


@PENALTIES.register("r1")
def r1_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator, eps: float = 0.0) -> Tensor:
    """R1: (1/2) E[||grad D(x_real)||^2], so the weight is gamma (Mescheder et al. 2018, eq. 9)."""
    return 0.5 * (_grad_norm(D, real, eps) ** 2).mean()


#: DRAGAN perturbation scale C: x_p = x + C * std(x) * U[0, 1) (Kodali et al. 2017, sec. 4, and their code).
DRAGAN_SCALE = 0.5


@PENALTIES.register("dragan")
def dragan_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator,
                   eps: float = 0.0) -> Tensor:
    """DRAGAN: the gradient penalty around perturbed reals, E[(||grad D(x + delta)|| - 1)^2] (Kodali et al. 2017).

    delta = C std(x) U[0, 1) with the batch's population std, numpy's ``minibatch.std()`` in compare_gan v1's
    DRAGAN.py ``get_perturbed_batch`` (and Kodali et al.'s code); x_hat = x + alpha (x_p - x), alpha ~ U[0, 1)."""
    real = real.detach()
    noise = torch.rand(real.shape, generator=generator, device=real.device, dtype=real.dtype)
    perturbed = real + DRAGAN_SCALE * real.std(unbiased=False) * noise
    alpha = _uniform(real.shape[0], real, generator)
    x_hat = alpha * real + (1.0 - alpha) * perturbed
    return ((_grad_norm(D, x_hat, eps) - 1.0) ** 2).mean()


@PENALTIES.register("drift")
def drift_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator) -> Tensor:
    """PGGAN's epsilon-drift term E[D(x_real)^2], which keeps the critic's output near 0 (Karras et al. 2018,
    appendix A.1; loss.py D_wgangp_acgan: wgan_epsilon = 0.001)."""
    return (D(real.detach()) ** 2).mean()


@CONSTRAINTS.register("weight_clip")
@torch.no_grad()
def weight_clip(D: nn.Module, c: float) -> None:
    """WGAN: clamp every critic parameter to [-c, c] after each critic step (Arjovsky et al. 2017, alg. 1)."""
    for p in D.parameters():
        p.clamp_(-c, c)


def spectral_norm_all(net: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every conv and linear weight of ``net``, in place.

    Uses torch's parametrization: one power iteration per training forward, the vectors
    ``u, v`` kept as buffers (so they are checkpointed). Batch/layer norm affine weights are left alone.
    """
    for module in list(net.modules()):
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(module)
    return net
