"""GAN losses: one ``(d_loss, g_loss)`` pair each, functions of the discriminator's raw outputs.

``real`` and ``fake`` are D outputs (logits / critic values) of shape ``(N,)``. ``real_target``
is 1 - s under one-sided label smoothing (Salimans et al. 2016). Written with ``softplus`` so
that ``-log(sigmoid(x)) = softplus(-x)`` and ``-log(1 - sigmoid(x)) = softplus(x)`` stay exact
for large logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from ..registry import Registry


@dataclass(frozen=True)
class LossPair:
    name: str
    d_loss: Callable[..., Tensor]  # (real, fake, real_target=1.0) -> scalar
    g_loss: Callable[..., Tensor]  # (fake, real=None) -> scalar
    description: str
    g_needs_real: bool = False  # the G loss also reads D(real) (relativistic losses)


LOSSES: Registry[LossPair] = Registry("loss")


def loss(name: str, g_loss: Callable[..., Tensor], description: str, g_needs_real: bool = False):
    """Register the decorated D loss together with its G loss under ``name``."""
    def deco(d_loss: Callable[..., Tensor]) -> Callable[..., Tensor]:
        LOSSES.add(name, LossPair(name, d_loss, g_loss, description, g_needs_real))
        return d_loss
    return deco


def _bce_logits(x: Tensor, target: float) -> Tensor:
    """Mean binary cross-entropy of logits ``x`` against a constant target."""
    return (target * F.softplus(-x) + (1.0 - target) * F.softplus(x)).mean()


def _minimax_g(fake: Tensor, real: Optional[Tensor] = None) -> Tensor:
    return -F.softplus(fake).mean()  # E[log(1 - D(G(z)))], minimised by G (Goodfellow et al. 2014, eq. 1)


@loss("minimax", _minimax_g, "saturating minimax GAN: G minimises log(1 - D(G(z))) (Goodfellow et al. 2014)")
def minimax_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return _bce_logits(real, real_target) + _bce_logits(fake, 0.0)


def _ns_g(fake: Tensor, real: Optional[Tensor] = None) -> Tensor:
    return F.softplus(-fake).mean()  # -E[log D(G(z))]


@loss("ns", _ns_g, "non-saturating GAN: G maximises log D(G(z)) (Goodfellow et al. 2014, sec. 3)")
def ns_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return _bce_logits(real, real_target) + _bce_logits(fake, 0.0)


def _lsgan_g(fake: Tensor, real: Optional[Tensor] = None) -> Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


@loss("lsgan", _lsgan_g, "least squares GAN with 0-1 coding a=0, b=c=1 (Mao et al. 2017, eq. 2)")
def lsgan_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return 0.5 * ((real - real_target) ** 2).mean() + 0.5 * (fake ** 2).mean()


def _lsgan_sigmoid_g(fake: Tensor, real: Optional[Tensor] = None) -> Tensor:
    return 0.5 * ((torch.sigmoid(fake) - 1.0) ** 2).mean()


@loss("lsgan_sigmoid", _lsgan_sigmoid_g, "least squares GAN on D's sigmoid output, as compare_gan v1's LSGAN.py "
      "(Lucic et al. 2018): D minimises (E[(s(D(x)) - 1)^2] + E[s(D(G(z)))^2]) / 2")
def lsgan_sigmoid_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return 0.5 * ((torch.sigmoid(real) - real_target) ** 2).mean() + 0.5 * (torch.sigmoid(fake) ** 2).mean()


def _wgan_g(fake: Tensor, real: Optional[Tensor] = None) -> Tensor:
    return -fake.mean()


@loss("wgan", _wgan_g, "Wasserstein critic loss E[D(fake)] - E[D(real)] (Arjovsky et al. 2017)")
def wgan_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return fake.mean() - real.mean()


@loss("hinge", _wgan_g, "hinge loss for D, -E[D(G(z))] for G (Lim & Ye 2017; Miyato et al. 2018)")
def hinge_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def _ragan_g(fake: Tensor, real: Optional[Tensor] = None) -> Tensor:
    if real is None:
        raise ValueError("the RaGAN generator loss needs D(real)")
    return _bce_logits(fake - real.mean(), 1.0) + _bce_logits(real - fake.mean(), 0.0)


@loss("ragan", _ragan_g, "relativistic average standard GAN, RaSGAN (Jolicoeur-Martineau 2019, eqs. 7-8)",
      g_needs_real=True)
def ragan_d(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    return _bce_logits(real - fake.mean(), real_target) + _bce_logits(fake - real.mean(), 0.0)


