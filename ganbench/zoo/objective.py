"""The terms of D's objective beyond its loss, composed from registered parts.

A D step computes D's outputs on the real and fake batches once (``DStep``); the model's loss turns them into
the adversarial loss, and every term here may add to it and log: the auxiliary classifier's cross-entropy
(``d_conditioning: ac``), adaptive augmentation's watch on D's outputs (it adds nothing), and each penalty of the
spec (``zoo.regularizers``). A part is a builder registered in ``D_TERMS``: ``builder(model)`` returns the terms
the model needs (none when its spec does not ask for the part), built once; ``GANModel.d_step`` calls them in
registration order and never branches on what they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

from ..registry import Registry
from . import double_backward
from .conditioning import Heads
from .regularizers import PenaltyContext, call_penalty

#: A ``zoo.model.GANModel`` (not imported: it builds its terms from this module).
GANModel = Any


@dataclass
class DStep:
    """What one D step computed: the batches as D saw them, D's heads on each, the labels, the step's generator."""

    real_in: Tensor
    fake_in: Tensor
    h_real: Heads
    h_fake: Heads
    labels: Tensor | None  # the real batch's (None for an unconditional model)
    c_fake: Tensor | None  # the fakes' labels
    generator: torch.Generator


#: A term: (model, step) -> (what it adds to D's loss, or None; the scalars it logs).
Term = Callable[[GANModel, DStep], tuple[Tensor | None, dict[str, Tensor]]]
D_TERMS: Registry[Callable[[GANModel], list[Term]]] = Registry("D objective term")


def d_terms(model: GANModel) -> list[Term]:
    """Every term ``model``'s spec asks for, in registration order."""
    return [term for name in D_TERMS for term in D_TERMS.get(name)(model)]


@D_TERMS.register("auxiliary classifier")
def _classifier(model: GANModel) -> list[Term]:
    """AC-GAN: D maximises the log-likelihood of the right class on reals and fakes (Odena et al. 2017, eq. 2)."""
    if not model.ac:
        return []

    def term(m: GANModel, s: DStep):
        ac = m.class_loss(s.h_real.cls, s.labels) + m.class_loss(s.h_fake.cls, s.c_fake)
        return m.spec.tricks.ac_weight * ac, {"ac_d": ac.detach()}
    return [term]


@D_TERMS.register("adaptive augmentation")
def _adaptive_augmentation(model: GANModel) -> list[Term]:
    """ADA's controller reads D's outputs on the reals (``augment.AdaptiveAugment``); it adds nothing to the loss."""
    if model.ada is None:
        return []

    def term(m: GANModel, s: DStep):
        m.ada.observe(s.h_real.adv)
        return None, {"ada_p": torch.tensor(m.ada.p)}
    return [term]


@D_TERMS.register("penalties")
def _penalties(model: GANModel) -> list[Term]:
    """``weight * penalty`` for every penalty of the spec, each with its own ``PenaltyContext`` state; the nets'
    second derivatives are ``zoo.double_backward``'s unless the model turns them off (``fast=False``)."""
    def make(name: str, penalty, weight: float) -> Term:
        def term(m: GANModel, s: DStep):
            m._penalty_labels = s.labels  # a conditional D reads the real batch's labels (GANModel.penalised)
            ctx = PenaltyContext(m.penalty_output(s.h_real.adv), m.penalty_output(s.h_fake.adv), m.g_steps,
                                 m.penalty_state[name])
            with m.autocast(), double_backward.native(not m.cheap_double_backward):
                value = call_penalty(penalty, m.penalised, s.real_in, s.fake_in, s.generator, ctx).float()
            return weight * value, {name: value.detach()}
        return term
    return [make(name, penalty, weight) for name, penalty, weight in model.penalties]
