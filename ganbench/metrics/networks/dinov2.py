"""DINOv2 ViT-L/14 (Oquab et al. 2023): the space of FD_DINOv2 (Stein et al. 2023, dgm-eval; EDM2 reports it).

The network is facebookresearch/dinov2's ``dinov2_vitl14`` (what dgm-eval loads through torch.hub): its CLS token
after the final layer norm, 1024-d. The architecture comes from timm (``vit_large_patch14_dinov2``, the same
blocks, LayerScale and key names), built at 224 px; the official checkpoint's 37x37 position embedding (518 px) is
interpolated to 16x16 once, exactly as the official model does at run time (``interpolate_pos_encoding``: bicubic,
scale factor (16 + 0.1) / 37, no antialiasing). Preprocessing is dgm-eval's ``DINOv2Encoder.transform``: each image
resized by PIL to 224x224 bicubic (a uint8 image), to [0, 1], ImageNet mean/std; grayscale tiled to RGB first.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ...errors import MissingAsset
from ...io import sha256_file
from .base import NetOptions, env_name, hub_file, local_file, network
from .preprocess import normalise, pil_resize_rgb

URL = "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth"
SIZE, PATCH = 224, 14
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def interpolate_pos_embed(pos_embed: torch.Tensor, size: int = SIZE, patch: int = PATCH) -> torch.Tensor:
    """The official DINOv2 position embedding for ``size`` px: its patch grid resized bicubically with the scale
    factor (size / patch + 0.1) / grid (dinov2/models/vision_transformer.py ``interpolate_pos_encoding``)."""
    cls, grid = pos_embed[:, :1], pos_embed[:, 1:].float()
    m, dim = int(math.sqrt(grid.shape[1])), grid.shape[2]
    w0 = size // patch
    if m == w0:
        return pos_embed
    scale = float((w0 + 0.1) / m)
    g = torch.nn.functional.interpolate(grid.reshape(1, m, m, dim).permute(0, 3, 1, 2), scale_factor=(scale, scale),
                                        mode="bicubic")
    if g.shape[-1] != w0 or g.shape[-2] != w0:
        raise ValueError(f"position embedding resized to {tuple(g.shape[-2:])}, expected {w0}x{w0}")
    return torch.cat([cls, g.permute(0, 2, 3, 1).reshape(1, -1, dim).to(pos_embed.dtype)], dim=1)


def vit_l14() -> torch.nn.Module:
    """DINOv2's ViT-L/14 at 224 px (timm's implementation), randomly initialised, in eval mode."""
    try:
        import timm
    except ImportError:
        raise MissingAsset("--features dinov2 needs timm: pip install 'ganbench[dinov2]' (or pip install timm)") from None
    return timm.create_model("vit_large_patch14_dinov2", pretrained=False, img_size=SIZE, num_classes=0).eval()


def load_official(model: torch.nn.Module, state: dict) -> torch.nn.Module:
    """The official checkpoint (``dinov2_vitl14_pretrain.pth``, or a state dict already at 224 px) into ``model``."""
    state = {k: v for k, v in state.items() if k != "mask_token"}  # used only in training
    state["pos_embed"] = interpolate_pos_embed(state["pos_embed"])
    model.load_state_dict(state, strict=True)
    return model


class DINOv2:
    def __init__(self, model: torch.nn.Module, sha256: str):
        self.module, self.sha256 = model.requires_grad_(False).eval(), sha256

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]:
        x = normalise(pil_resize_rgb(images, SIZE), IMAGENET_MEAN, IMAGENET_STD)
        return {"dinov2": self.module.forward_head(self.module.forward_features(x), pre_logits=True)}

    def signature(self) -> dict[str, Any]:
        return {"weights_sha256": self.sha256, "preprocessing": "pil-bicubic-224-imagenet", "extractor": "dinov2-vitl14-1"}


def weights_file(options: NetOptions):
    """A local file, else torch.hub's cached download, else a download (one try); None when none is had."""
    path = local_file("dinov2", options)
    if path is not None:
        return path
    return hub_file(URL)


@network("dinov2", label="DINOv2", main="dinov2", features={"dinov2": 1024},
         description="DINOv2 ViT-L/14 CLS token (Oquab et al. 2023): the space of FD_DINOv2 (Stein et al. 2023)",
         weights=f"Meta's dinov2_vitl14_pretrain.pth, downloaded once into torch.hub's cache; offline: download {URL} "
                 f"and pass --weights dinov2=PATH (or ${env_name('dinov2')})",
         preprocessing="PIL bicubic resize to 224x224 (dgm-eval's), ImageNet mean/std, grayscale tiled to RGB")
def load(options: NetOptions) -> DINOv2:
    model = vit_l14()
    path = weights_file(options)
    if path is None:
        raise MissingAsset(f"DINOv2 ViT-L/14 weights unavailable (no download possible): download {URL} and pass "
                           f"--weights dinov2=PATH or set ${env_name('dinov2')}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return DINOv2(load_official(model, state).to(options.device), sha256_file(path))
