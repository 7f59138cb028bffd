"""Class conditioning as a registry: how labels enter G and D, for every net family, without copies of the nets.

G is ``G(z, c)`` and D is ``D(x, c)``, returning its heads (``Heads``: the adversarial output and, for an
auxiliary classifier, class logits); an unconditional net keeps ``G(z)`` and ``D(x)`` and nothing changes
for it. The methods (``arch.g_conditioning``, ``arch.d_conditioning``):

- G ``concat``: the one-hot label appended to z (Mirza & Osindero 2014), so G's first layer sees z_dim + K.
- G ``cbn``: class-conditional batch norm (de Vries et al. 2017; Miyato & Koyama 2018; Brock et al. 2019):
  every batch norm of G normalises without its own affine and takes a per-class gain and bias.
- D ``concat``: the one-hot label as K constant planes appended to the image channels (Mirza & Osindero 2014).
- D ``projection``: D(x, y) = psi(phi(x)) + <embed(y), phi(x)> (Miyato & Koyama 2018, eq. 3), phi the input of
  D's last linear layer; the embedding is a bias-free linear map of the one-hot label, so spectral norm (when the
  spec asks for it on D) covers it too.
- D ``ac``: an auxiliary classifier, a linear layer on phi(x) giving class logits (Odena et al. 2017); the model
  adds its cross-entropy to both losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import BadInput
from ..registry import Registry


class Heads(NamedTuple):
    adv: Tensor  # (N,) adversarial logits / critic values
    cls: Tensor | None = None  # (N, K) class logits of an auxiliary classifier


def split_heads(out) -> Heads:
    """D's output as heads, whether D is conditional (returns Heads) or not (returns a tensor)."""
    return out if isinstance(out, Heads) else Heads(out, None)


@dataclass(frozen=True)
class Method:
    name: str
    side: str  # "g" | "d"
    description: str
    paper: str


G_CONDITIONING: Registry[Method] = Registry("G conditioning")
D_CONDITIONING: Registry[Method] = Registry("D conditioning")
for _m in (Method("none", "g", "unconditional", ""),
           Method("concat", "g", "one-hot label appended to z", "Mirza & Osindero 2014"),
           Method("cbn", "g", "class-conditional batch norm: per-class gain and bias",
                  "de Vries et al. 2017; Miyato & Koyama 2018")):
    G_CONDITIONING.add(_m.name, _m)
for _m in (Method("none", "d", "unconditional", ""),
           Method("concat", "d", "one-hot label planes appended to the image", "Mirza & Osindero 2014"),
           Method("projection", "d", "projection discriminator <embed(y), phi(x)>", "Miyato & Koyama 2018"),
           Method("ac", "d", "auxiliary classifier head on phi(x)", "Odena et al. 2017")):
    D_CONDITIONING.add(_m.name, _m)


def one_hot(c: Tensor, k: int, dtype: torch.dtype) -> Tensor:
    return F.one_hot(c.long(), k).to(dtype)


class ConditionalBatchNorm(nn.Module):
    """Batch norm without its own affine, then a gain and a bias looked up by class (gain 1, bias 0 at start)."""

    def __init__(self, bn: nn.modules.batchnorm._BatchNorm, num_classes: int):
        super().__init__()
        self.bn = type(bn)(bn.num_features, eps=bn.eps, momentum=bn.momentum, affine=False)
        self.gain = nn.Embedding(num_classes, bn.num_features)
        self.bias = nn.Embedding(num_classes, bn.num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)
        self.labels: Tensor | None = None  # set by ConditionalG for the current forward

    def forward(self, x: Tensor) -> Tensor:
        if self.labels is None:
            raise RuntimeError("class-conditional batch norm called without labels")
        shape = (x.shape[0], -1) + (1,) * (x.ndim - 2)
        return self.bn(x) * self.gain(self.labels).view(shape) + self.bias(self.labels).view(shape)


def _replace_batch_norms(module: nn.Module, num_classes: int) -> int:
    count = 0
    for name, child in module.named_children():
        if isinstance(child, (nn.BatchNorm1d, nn.BatchNorm2d)):
            setattr(module, name, ConditionalBatchNorm(child, num_classes))
            count += 1
        else:
            count += _replace_batch_norms(child, num_classes)
    return count


class ConditionalG(nn.Module):
    """``G(z, c)``: the family's generator with labels ``c`` (N,) entering by ``method``."""

    def __init__(self, body: nn.Module, num_classes: int, method: str, z_dim: int):
        super().__init__()
        self.body, self.num_classes, self.method, self.z_dim = body, num_classes, method, z_dim
        self.class_probs: Tensor | None = None  # the class distribution samples follow (the training set's)
        if method == "cbn" and _replace_batch_norms(body, num_classes) == 0:
            raise BadInput("g_conditioning cbn needs batch norm in G; this net family has none (use concat)")

    def forward(self, z: Tensor, c: Tensor | None = None) -> Tensor:
        if c is None:
            raise BadInput("a conditional generator needs labels: call G(z, c)")
        if self.method == "none":
            return self.body(z)
        if self.method == "concat":
            return self.body(torch.cat([z, one_hot(c, self.num_classes, z.dtype)], dim=1))
        for m in self.body.modules():
            if isinstance(m, ConditionalBatchNorm):
                m.labels = c
        try:
            return self.body(z)
        finally:
            for m in self.body.modules():
                if isinstance(m, ConditionalBatchNorm):
                    m.labels = None


class ConditionalD(nn.Module):
    """``D(x, c) -> Heads``: the family's discriminator with labels ``c`` entering by ``method``."""

    def __init__(self, body: nn.Module, num_classes: int, method: str, feature_dim: int):
        super().__init__()
        self.body, self.num_classes, self.method = body, num_classes, method
        if method == "projection":
            self.embed = nn.Linear(num_classes, feature_dim, bias=False)
            nn.init.xavier_uniform_(self.embed.weight)
        elif method == "ac":
            self.classifier = nn.Linear(feature_dim, num_classes)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Heads:
        if self.method == "none":
            return Heads(self.body(x))
        if self.method == "concat":
            if c is None:
                raise BadInput("a conditional discriminator needs labels: call D(x, c)")
            planes = one_hot(c, self.num_classes, x.dtype)[:, :, None, None].expand(-1, -1, *x.shape[2:])
            return Heads(self.body(torch.cat([x, planes], dim=1)))
        f = self.body.features(x)
        adv = self.body.apply_head(f).view(-1)
        if self.method == "projection":
            if c is None:
                raise BadInput("a projection discriminator needs labels: call D(x, c)")
            return Heads(adv + (self.embed(one_hot(c, self.num_classes, f.dtype)) * f).sum(dim=1))
        return Heads(adv, self.classifier(f))  # "ac": D itself ignores c; the model's loss uses it


def d_input_shape(method: str, shape: tuple, num_classes: int) -> tuple:
    """The shape the family's D is built for: ``concat`` adds K label planes to the channels."""
    return (shape[0] + num_classes, *shape[1:]) if method == "concat" else tuple(shape)


def g_latent_size(method: str, z_dim: int, num_classes: int) -> int:
    """The latent size the family's G is built for: ``concat`` appends the one-hot label to z."""
    return z_dim + num_classes if method == "concat" else z_dim


def feature_dim(D: nn.Module, shape: tuple) -> int:
    """Width of ``D.features`` on inputs of ``shape`` (one dummy forward, no state changed)."""
    was = D.training
    D.eval()
    try:
        with torch.no_grad():
            return int(D.features(torch.zeros(1, *shape)).shape[1])
    finally:
        D.train(was)


def conditional(g_method: str, d_method: str) -> bool:
    return g_method != "none" or d_method != "none"

