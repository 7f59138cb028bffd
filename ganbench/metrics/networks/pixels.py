"""The pixels themselves, flattened: what CAS trains its classifier on (no network, no weights)."""

from __future__ import annotations

from typing import Any

import torch

from .base import NetOptions, network


class Pixels:
    module = torch.nn.Identity()

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
        return {"pixels": images.float().flatten(1)}

    def signature(self) -> dict[str, Any]:
        return {"extractor": "pixels-1"}


@network("pixels", label="pixels", main="pixels", features={"pixels": 0},
         description="the uint8 pixels, flattened (CAS's input; a baseline space for FD)",
         weights="none", preprocessing="none")
def load(options: NetOptions) -> Pixels:
    return Pixels()
