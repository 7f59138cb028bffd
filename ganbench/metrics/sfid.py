"""sFID (Nash et al. 2021, "Generating Images with Sparse Representations"): the Frechet distance on spatial
Inception features instead of pool3, sensitive to spatial structure that pool3 averages away.

The layer and channels follow the evaluator of Dhariwal & Nichol 2021 (openai/guided-diffusion,
``evaluations/evaluator.py``): the TF graph tensor ``mixed_6/conv:0``, its first 7 channels, flattened
(17 x 17 x 7 = 2023 dims). In torch-fidelity's port of the same network (TF's ``mixed``..``mixed_10``
are Mixed_5b..Mixed_7c) that tensor is the output of ``Mixed_6d.branch1x1``: a 1x1 conv, batch norm
and ReLU, read here by a forward hook during the same pass that gives pool3.
"""

from __future__ import annotations

import torch

from .features import layer_feature
from .fid import fid_from_features
from .registry import Column, Context, metric

#: Channels of mixed_6/conv kept (guided-diffusion: ``spatial[..., :7]``).
SFID_CHANNELS = 7


@layer_feature("spatial7", "inception", "Mixed_6d.branch1x1",
               "Inception mixed_6/conv (Mixed_6d 1x1 branch, after ReLU), first 7 channels at 17x17: 2023-d")
def spatial7(output: torch.Tensor) -> torch.Tensor:
    """``(B, 192, 17, 17)`` -> ``(B, 2023)``, flattened in TF's NHWC order."""
    return output[:, :SFID_CHANNELS].permute(0, 2, 3, 1).reshape(output.shape[0], -1)


@metric("sfid", columns=(Column("sfid", "sFID", "lower", sample_size=True, bounds=(0, None)),), features=("spatial7",),
        space="inception-mixed_6/conv[:7]",
        description="spatial FID (Nash et al. 2021) on Inception mixed_6/conv, as guided-diffusion's evaluator")
def _sfid(ctx: Context) -> dict[str, float]:
    return {"sfid": fid_from_features(ctx.samples.features["spatial7"], ctx.ref_features("spatial7"))}
