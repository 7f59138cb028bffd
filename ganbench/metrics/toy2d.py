"""Mode metrics of the 2-D toy benchmark (Metz et al. 2017; Srivastava et al. 2017, "VEEGAN").

Each sample is assigned to its nearest mode; it is *high quality* when within 3 standard
deviations of that mode. A mode is *covered* when at least ``min_count`` high-quality samples
fall on it. Pure function of tensors; distances in float64.
"""

from __future__ import annotations

import torch

from ..config import TOY_MODE_MIN_SAMPLES


def mode_metrics(samples: torch.Tensor, centers: torch.Tensor, std: float,
                 min_count: int = TOY_MODE_MIN_SAMPLES) -> dict:
    """``samples (N, 2)``, ``centers (K, 2)`` -> modes covered, share of high-quality samples, per-mode counts."""
    x, c = samples.detach().double().cpu(), centers.double().cpu()
    finite = torch.isfinite(x).all(dim=1)
    dist, nearest = torch.cdist(x[finite], c).min(dim=1)
    good = dist <= 3.0 * std
    counts = torch.bincount(nearest[good], minlength=len(c))
    return {
        "modes": int((counts >= min_count).sum()),
        "num_modes": len(c),
        "high_quality": float(good.sum()) / len(x) if len(x) else 0.0,
        "counts": counts.tolist(),
    }
