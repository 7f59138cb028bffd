"""Inception Score (Salimans et al. 2016): exp E_x KL(p(y|x) || p(y)), mean and std over splits.

Samples are shuffled as torch-fidelity shuffles them (``RandomState(seed).permutation``) before
splitting, so the same seed gives its numbers; float64 throughout.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import BadInput
from .registry import Column, Context, Unavailable, metric, needs_images


def split_scores(logits: torch.Tensor, splits: int = 10, seed: int | None = 0) -> torch.Tensor:
    """Per-split IS ``(splits,)`` of ``logits`` ``(N, C)``; ``seed=None`` keeps the given order."""
    n = logits.shape[0]
    if logits.ndim != 2 or n < splits or splits < 1:
        raise BadInput(f"Inception Score needs logits (N, C) with N >= splits ({splits}), got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise BadInput("Inception Score: logits contain NaN/Inf (pool3-only weights have no classifier head)")
    x = logits.double()
    if seed is not None:
        x = x[torch.from_numpy(np.random.RandomState(seed).permutation(n))]
    log_p = x.log_softmax(1)
    scores = []
    for i in range(splits):
        chunk = log_p[i * n // splits:(i + 1) * n // splits]
        log_q = chunk.exp().mean(0).log()
        kl = (chunk.exp() * (chunk - log_q)).sum(1).mean()
        scores.append(kl.exp())
    return torch.stack(scores)


def inception_score(logits: torch.Tensor, splits: int = 10, seed: int | None = 0) -> tuple[float, float]:
    """IS mean and (population) std over ``splits`` of ``logits`` ``(N, C)``."""
    s = split_scores(logits, splits, seed)
    return float(s.mean()), float(s.std(unbiased=False))


def no_head(ctx: Context) -> str:
    return (f"the Inception weights ({ctx.weights_name}) have no classifier head (pool3 only); pass "
            "--inception-weights with torch-fidelity's or pytorch-fid's .pth (or set GANBENCH_INCEPTION_WEIGHTS)")


@metric("is", columns=(Column("is_mean", "IS", "higher", bounds=(1, None)), Column("is_std", "IS std")),
        features=("logits",), space="inception-logits-unbiased", needs_reference=False,
        description="Inception Score (Salimans et al. 2016), 10 splits")
def _is(ctx: Context) -> dict[str, float]:
    if not ctx.has_head:
        raise Unavailable(no_head(ctx))
    mean, std = inception_score(ctx.samples.features["logits"], ctx.protocol.is_splits, ctx.protocol.seed)
    return {"is_mean": mean, "is_std": std}


needs_images("is", lambda p: p.is_splits)  # one image per split at least
