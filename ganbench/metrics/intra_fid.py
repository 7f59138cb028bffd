"""Intra-FID (Miyato & Koyama 2018, sec. 5): FID between a class's generated samples and that class's reference
images, for every class, averaged.

Per-class values are kept (``intra_fid/K``). A class needs at least 2 images on each side; at small N each
per-class FID is biased upward like any FID (the mean over K classes of FIDs at N/K), so compare intra-FID only
at equal N. The reference's per-class statistics come from its cached features and its labels.
"""

from __future__ import annotations

import torch

from .fid import fid_from_features
from .registry import Column, Context, Unavailable, metric


def intra_fid(f_samples: torch.Tensor, y_samples: torch.Tensor, f_ref: torch.Tensor, y_ref: torch.Tensor,
              num_classes: int) -> tuple[float, dict[int, float]]:
    """Mean over classes of the FID of each class's rows; ``(mean, {class: FID})``."""
    per_class: dict[int, float] = {}
    for k in range(num_classes):
        s, r = f_samples[y_samples == k], f_ref[y_ref == k]
        if len(s) < 2 or len(r) < 2:
            raise Unavailable(f"class {k} has {len(s)} sample(s) and {len(r)} reference image(s); intra-FID "
                              "needs at least 2 of each in every class (give more samples)")
        per_class[k] = fid_from_features(s, r)
    return sum(per_class.values()) / len(per_class), per_class


@metric("intra_fid", columns=(Column("intra_fid", "intra-FID", "lower", sample_size=True, bounds=(0, None)),),
        features=("pool3",), space="inception-pool3", needs_labels=True,
        description="intra-FID: FID per class, averaged (Miyato & Koyama 2018); needs labelled samples and reference")
def _intra_fid(ctx: Context) -> dict[str, float]:
    ref = ctx.ref()
    k = int(max(int(ref.labels.max()), int(ctx.samples.labels.max())) + 1)
    mean, per_class = intra_fid(ctx.samples.features["pool3"], ctx.samples.labels, ctx.ref_features("pool3"),
                                ref.labels, k)
    return {"intra_fid": mean, **{f"intra_fid/{c}": v for c, v in per_class.items()}}
