"""The Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for Machine Learning",
TMLR): the exponential of the Shannon entropy of the eigenvalues of K / N, K the cosine-similarity kernel of the
samples' features. It counts effectively distinct samples: 1 for N copies of one image, N for orthogonal ones.

Its eigenvalues are those of X^T X / N for the L2-normalised features X (N, D), so it costs D x D, not N x N
(the package's ``score_dual``). In the ``--features`` space (Inception pool3 by default); it reads no reference.
"""

from __future__ import annotations

import torch

from .networks.base import space_feature, space_name
from .registry import Column, Context, metric


def vendi_score(features: torch.Tensor) -> float:
    """exp(-sum lambda log lambda) over the eigenvalues lambda of K / N, K_ij = cos(x_i, x_j)."""
    x = features.double()
    x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    small = (x.T @ x) if x.shape[0] > x.shape[1] else (x @ x.T)
    w = torch.linalg.eigvalsh(small / x.shape[0])
    w = w[w > 0]
    return float(torch.exp(-(w * torch.log(w)).sum()))


@metric("vendi", columns=(Column("vendi", "Vendi", "higher", digits=1, spaced="Vendi ({space})", bounds=(1, None)),),
        features=lambda p: (space_feature(p),), space=space_name, needs_reference=False,
        description="Vendi score (Friedman & Dieng 2023): effective number of distinct samples under cosine similarity "
                    "in the --features space; keeps every feature: N x D floats")
def _vendi(ctx: Context) -> dict[str, float]:
    return {"vendi": vendi_score(ctx.samples.features[space_feature(ctx.protocol)])}
