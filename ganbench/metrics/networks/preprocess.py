"""Preprocessing the peers' encoders share: PIL resizes of uint8 images, per-channel normalisation."""

from __future__ import annotations

import numpy as np
import torch


def pil_resize_rgb(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> uint8 ``(N, 3, size, size)``: grayscale tiled to RGB, each image resized by PIL's
    bicubic (as torchvision's ``Resize`` does to a PIL image: dgm-eval's and cmmd's input pipelines)."""
    from PIL import Image

    x = images.detach().to("cpu")
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    arr = x.permute(0, 2, 3, 1).contiguous().numpy()
    out = np.stack([np.asarray(Image.fromarray(a).resize((size, size), resample=Image.BICUBIC)) for a in arr])
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(images.device)


def normalise(images: torch.Tensor, mean, std) -> torch.Tensor:
    """uint8 -> [0, 1] -> (x - mean) / std per channel, float32."""
    x = images.float() / 255.0
    m = torch.tensor(mean, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s
