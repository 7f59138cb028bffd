"""Discriminator regularizers: penalties added to the D loss, and constraints applied after a D step (or before
it, ``tricks.weight_clip_at: before_step``).

Each penalty is registered under the ``TrickSpec`` field that holds its weight, so the model
applies ``weight * penalty(D, real, fake, generator)`` for every non-zero field. Inputs are
what D saw (after augmentation and instance noise), shape ``(N, ...)``. A penalty that also reads
D's outputs on that batch, or keeps state across steps, declares a ``ctx`` parameter and gets a
``PenaltyContext`` (``call_penalty``).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor, nn

from ..registry import Registry
from . import double_backward
from .augment import consistency_transform

Penalty = Callable[[nn.Module, Tensor, Tensor, torch.Generator], Tensor]
PENALTIES: Registry[Penalty] = Registry("penalty")
CONSTRAINTS: Registry[Callable[[nn.Module, float], None]] = Registry("constraint")
#: The penalties on D's per-sample input gradients, which batch norm in D couples across the batch.
GRADIENT_PENALTIES = ("gradient_penalty", "r1", "dragan")


@dataclass
class PenaltyContext:
    """What a penalty may read besides D and the batches.

    ``d_real`` / ``d_fake``: D's outputs on the batches it saw this step (still in the graph, as the penalties
    differentiate them: ``tricks.penalty_output``); ``g_steps``: G updates so far; ``state``: the penalty's own
    tensors, kept across steps and checkpointed with the model."""

    d_real: Tensor
    d_fake: Tensor
    g_steps: int
    state: dict[str, Tensor] = field(default_factory=dict)


def takes_context(penalty: Penalty) -> bool:
    return "ctx" in inspect.signature(penalty).parameters


def call_penalty(penalty: Penalty, D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator,
                 ctx: PenaltyContext) -> Tensor:
    """``penalty(D, real, fake, generator)``, with ``ctx=`` when it declares one."""
    if takes_context(penalty):
        return penalty(D, real, fake, generator, ctx=ctx)
    return penalty(D, real, fake, generator)


def _grad_norm(D: nn.Module, x: Tensor, eps: float = 0.0) -> Tensor:
    """Per-sample L2 norm of dD(x)/dx, shape (N,), kept in the graph (double backprop). ``eps`` > 0 gives
    sqrt(eps + sum g^2), compare_gan v1's ``slopes`` (WGAN_GP.py and DRAGAN.py, eps 1e-4)."""
    x = x.detach().requires_grad_(True)
    out = D(x)
    with double_backward.input_gradients_only():  # x's gradient alone: the convolutions skip their weights'
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
    DRAGAN.py ``get_perturbed_batch`` (and Kodali et al.'s code). x_hat = alpha x + (1 - alpha) x_p, alpha ~ U[0, 1):
    compare_gan's x + alpha (x_p - x) with alpha read as 1 - alpha, which has the same distribution (U(0, 1])."""
    real = real.detach()
    noise = torch.rand(real.shape, generator=generator, device=real.device, dtype=real.dtype)
    perturbed = real + DRAGAN_SCALE * real.std(unbiased=False) * noise
    alpha = _uniform(real.shape[0], real, generator)
    x_hat = alpha * real + (1.0 - alpha) * perturbed
    return ((_grad_norm(D, x_hat, eps) - 1.0) ** 2).mean()


@PENALTIES.register("drift")
def drift_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator,
                  ctx: PenaltyContext) -> Tensor:
    """PGGAN's epsilon-drift term E[D(x_real)^2], which keeps the critic's output near 0 (Karras et al. 2018,
    appendix A.1; loss.py D_wgangp_acgan: wgan_epsilon = 0.001, on the ``real_scores_out`` of the loss's own
    D forward, which ``ctx.d_real`` is: no forward of its own)."""
    return ctx.d_real.square().mean()


#: LeCam's moving averages of D's mean outputs: decay, and the G step from which they average (before it they
#: follow the last batch) and the regulariser applies. Tseng et al. 2021's BigGAN CIFAR code (google/lecam-gan,
#: third_party/utils.py ``ema_losses(decay=0.9)``, biggan_cifar/train.py ``start_itr=1000``).
LECAM_DECAY = 0.9
LECAM_START = 1000


@PENALTIES.register("lecam")
def lecam_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator,
                  ctx: PenaltyContext) -> Tensor:
    """LeCam: E[relu(D(x) - a_F)^2] + E[relu(a_R - D(G(z)))^2], a_R / a_F moving averages of D's mean output on
    reals / fakes (Tseng et al. 2021, eq. 3). As google/lecam-gan's biggan_cifar: the averages take this step's
    means first (losses.py ``loss_hinge_dis``), and the term is 0 until G step ``LECAM_START`` (train_fns.py)."""
    decay = LECAM_DECAY if ctx.g_steps >= LECAM_START else 0.0
    for key, out in (("ema_real", ctx.d_real), ("ema_fake", ctx.d_fake)):
        mean = out.detach().float().mean()
        ctx.state[key] = ctx.state[key] * decay + mean * (1.0 - decay) if key in ctx.state else mean
    if ctx.g_steps <= LECAM_START:
        return ctx.d_real.new_zeros(())
    return (torch.relu(ctx.d_real - ctx.state["ema_fake"]).square().mean()
            + torch.relu(ctx.state["ema_real"] - ctx.d_fake).square().mean())


@PENALTIES.register("bcr")
def bcr_penalty(D: nn.Module, real: Tensor, fake: Tensor, generator: torch.Generator,
                ctx: PenaltyContext) -> Tensor:
    """Balanced consistency regularisation: E[(D(x) - D(T(x)))^2] + E[(D(G(z)) - D(T(G(z))))^2], T a random
    horizontal flip and translation by up to 1/8 of the side (Zhao et al. 2021, sec. 3.1 and alg. 1, with
    lambda_real = lambda_fake: the ``tricks.bcr`` weight). Both sides stay in the graph, as in the paper's
    objective; x is what D saw (after DiffAugment)."""
    d_real_t = D(consistency_transform(real.detach(), generator))
    d_fake_t = D(consistency_transform(fake.detach(), generator))
    return (ctx.d_real - d_real_t).square().mean() + (ctx.d_fake - d_fake_t).square().mean()


@CONSTRAINTS.register("weight_clip")
@torch.no_grad()
def weight_clip(D: nn.Module, c: float) -> None:
    """WGAN: clamp every critic parameter (batch norm's scale and shift included, as compare_gan v1's WGAN.py clips
    every ``d_`` variable) to [-c, c], after each critic step (Arjovsky et al. 2017, alg. 1) or before it
    (``tricks.weight_clip_at``)."""
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
