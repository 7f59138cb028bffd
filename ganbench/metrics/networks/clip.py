"""CLIP ViT-L/14@336px (Radford et al. 2021) image embeddings: the space of CMMD (Jayasumana et al. 2024).

The network is OpenAI's ``ViT-L/14@336px`` image tower, built by torch-fidelity's copy of OpenAI's model code
(``feature_extractor_clip.build_model``) from the OpenAI checkpoint, the same file torch-fidelity's CLIP extractor
downloads. Preprocessing and output follow google-research/cmmd: each image centre-cropped to a square and resized
by PIL to 336x336 bicubic (``io_util._center_crop_and_resize``), to [0, 1], CLIP's mean/std; grayscale tiled to
RGB; the embedding L2-normalised (768-d).
"""

from __future__ import annotations

from typing import Any

import torch

from ...errors import MissingAsset
from ...io import sha256_file
from .base import NetOptions, env_name, hub_file, local_file, network
from .preprocess import normalise, pil_resize_rgb

#: OpenAI's release of ViT-L/14@336px (its SHA-256 is in the URL), as torch-fidelity lists it.
SHA256 = "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02"
URL = f"https://openaipublic.azureedge.net/clip/models/{SHA256}/ViT-L-14-336px.pt"
SIZE = 336
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def center_square(images: torch.Tensor) -> torch.Tensor:
    """The centred square crop of each image (cmmd's ``_center_crop_and_resize`` before its resize)."""
    h, w = images.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return images[..., top:top + side, left:left + side]


def visual_l14_336() -> torch.nn.Module:
    """OpenAI's ViT-L/14@336px image tower (torch-fidelity's copy of its code), randomly initialised."""
    from torch_fidelity.feature_extractor_clip import CLIPVisual

    return CLIPVisual(embed_dim=768, image_resolution=SIZE, vision_layers=24, vision_width=1024, vision_patch_size=14)


def build_from_checkpoint(path) -> torch.nn.Module:
    """The image tower from OpenAI's checkpoint (a TorchScript archive, or a plain state dict of its keys)."""
    from torch_fidelity.feature_extractor_clip import build_model

    try:
        state = torch.jit.load(str(path), map_location="cpu").state_dict()
    except RuntimeError:
        state = torch.load(path, map_location="cpu", weights_only=True)
    return build_model(dict(state), torch.float32)


class CLIP:
    def __init__(self, model: torch.nn.Module, sha256: str):
        self.module, self.sha256 = model.requires_grad_(False).eval(), sha256

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
        x = normalise(pil_resize_rgb(center_square(images), SIZE), CLIP_MEAN, CLIP_STD)
        emb = self.module.visual(x).float()
        return {"clip": emb / emb.norm(dim=-1, keepdim=True)}

    def signature(self) -> dict[str, Any]:
        return {"weights_sha256": self.sha256, "preprocessing": "pil-bicubic-336-clip-l2", "extractor": "clip-l14-336-1"}


@network("clip", label="CLIP", main="clip", features={"clip": 768},
         description="CLIP ViT-L/14@336px image embedding, L2-normalised: the space of CMMD (Jayasumana et al. 2024)",
         weights=f"OpenAI's ViT-L-14-336px.pt, downloaded once into torch.hub's cache; offline: download {URL} and "
                 f"pass --weights clip=PATH (or ${env_name('clip')})",
         preprocessing="centre square crop, PIL bicubic resize to 336x336 (cmmd's), CLIP mean/std, grayscale tiled to "
                       "RGB; embeddings L2-normalised")
def load(options: NetOptions) -> CLIP:
    path = local_file("clip", options) or hub_file(URL, f"clip-vit-l-14-336px-{SHA256}.pt")
    if path is None:
        raise MissingAsset(f"CLIP ViT-L/14@336px weights unavailable (no download possible): download {URL} and "
                           f"pass --weights clip=PATH or set ${env_name('clip')}")
    return CLIP(build_from_checkpoint(path).to(options.device), sha256_file(path))
