"""VGG16 fc2 after ReLU (torch-fidelity's ``fc2_relu``): the space Kynkaanniemi et al. 2019 and StyleGAN2-ADA's
``pr50k3`` read precision and recall in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ...errors import MissingAsset
from ...io import sha256_file
from .base import NetOptions, local_file, network


class LoadedVGG16:
    def __init__(self, net: torch.nn.Module, sha256: str):
        self.module, self.sha256 = net, sha256

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
        (f,) = self.module(images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images)
        return {"vgg16": f}

    def signature(self) -> dict[str, Any]:
        return {"weights_sha256": self.sha256, "preprocessing": "tf1-224-imagenet", "extractor": "torch-fidelity-vgg16"}


@network("vgg16", label="VGG16", main="vgg16", features={"vgg16": 4096},
         description="VGG16 fc2 after ReLU, torch-fidelity's (the canonical precision/recall space)",
         weights="torchvision's ImageNet VGG16, downloaded once by torch-fidelity; offline: --weights vgg16=PATH "
                 "(a torchvision state dict) or $GANBENCH_WEIGHTS_VGG16",
         preprocessing="TF1 bilinear resize to 224x224, ImageNet mean/std, grayscale tiled to RGB")
def load(options: NetOptions) -> LoadedVGG16:
    from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16

    path = local_file("vgg16", options)
    try:
        net = FeatureExtractorVGG16("vgg16", ["fc2_relu"], feature_extractor_weights_path=str(path) if path else None)
    except (OSError, RuntimeError) as e:
        raise MissingAsset(f"VGG16 weights unavailable ({str(e).splitlines()[0]}); download them once with internet "
                           "access, or pass --weights vgg16=PATH (torchvision's vgg16 state dict)") from None
    if path is None:  # torchvision's download, cached under torch.hub's folder
        cached = sorted((Path(torch.hub.get_dir()) / "checkpoints").glob("vgg16-*.pth"))
        path = cached[0] if cached else None
    return LoadedVGG16(net.to(options.device), sha256_file(path) if path else "torchvision-vgg16-imagenet")
