"""An offline domain space for Fashion-MNIST: the penultimate layer (128-d) of a small classifier trained once on the
training split (``fmnist_arch``: its architecture and recipe; ``scripts/train_domain_net.py`` trains it), shipped
in the package and pinned by SHA-256. FD, KID, precision/recall, density/coverage, Vendi and C_T in it need no
download on any machine, and it judges clothes by what tells clothes apart rather than by ImageNet's photographs.
It reads 1-channel 28x28 images as they are (no resize)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import torch

from ...errors import BadInput, MissingAsset
from ...io import sha256_file
from .base import NetOptions, env_name, local_file, network
from .fmnist_arch import FEATURE_DIM, FMNISTNet

WEIGHTS = Path(str(files("ganbench") / "metrics" / "networks" / "fmnist_cnn.pt"))
#: The shipped weights' SHA-256 (scripts/train_domain_net.py prints it); a file that differs is refused.
SHA256 = "4cf6b5a1af4e385580c049da71dad26ad775ecaeb54e973132cf85f84079848f"
#: Its top-1 accuracy on the 10,000 Fashion-MNIST test images (scripts/train_domain_net.py).
TEST_ACCURACY = 0.9143  # 9,143 of the 10,000 test images


class DomainNet:
    def __init__(self, net: FMNISTNet, sha256: str):
        self.module, self.sha256 = net.requires_grad_(False).eval(), sha256

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
        if images.shape[1:] != (1, 28, 28):
            raise BadInput(f"the fmnist feature space reads 1x28x28 Fashion-MNIST-like images, got "
                           f"{tuple(images.shape[1:])}; use --features inception (or dinov2) for other data")
        return {"fmnist": self.module.features(images)}

    def signature(self) -> dict[str, Any]:
        return {"weights_sha256": self.sha256, "preprocessing": "fmnist-mean-std", "extractor": "fmnist-cnn-1"}


@network("fmnist", label="FMNIST-CNN", main="fmnist", features={"fmnist": FEATURE_DIM},
         description="a small Fashion-MNIST classifier's 128-d penultimate layer, shipped with ganbench (offline)",
         weights="shipped in the package (fmnist_cnn.pt, SHA-256 pinned); --weights fmnist=PATH for a retrained one",
         preprocessing="none (28x28 grayscale read as is), Fashion-MNIST mean/std")
def load(options: NetOptions) -> DomainNet:
    path = local_file("fmnist", options) or WEIGHTS
    if not path.is_file():
        raise MissingAsset(f"the shipped Fashion-MNIST network {path} is missing; reinstall ganbench or pass "
                           f"--weights fmnist=PATH (${env_name('fmnist')})")
    sha = sha256_file(path)
    if path == WEIGHTS and sha != SHA256:
        raise MissingAsset(f"{path} has SHA-256 {sha[:12]}, not the shipped {SHA256[:12]}; reinstall ganbench")
    net = FMNISTNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return DomainNet(net.to(options.device), sha)
