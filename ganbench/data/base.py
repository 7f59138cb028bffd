"""The one kind of object every dataset returns: a sized, indexable set of images.

``uint8(idx)`` gives ``(N, C, H, W)`` uint8 tensors for evaluation; ``float(idx)`` gives the
same images in [-1, 1] for training. ``transform`` names every change made to the stored
pixels (e.g. ``pad28to32``) so results can record it: nothing is resized silently.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence, Union

import torch
import torch.nn.functional as F

from ..errors import BadInput

Index = Union[slice, Sequence[int], torch.Tensor]
RESOLUTION_MODES = ("pad", "resize")


class ImageSet(ABC):
    """Images of one dataset split, all of shape ``(channels, resolution, resolution)``."""

    name: str
    split: str
    channels: int
    resolution: int
    source: str  # where the data was found (path or URL), for provenance
    transform: str = "none"

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def uint8(self, idx: Index) -> torch.Tensor:
        """Images ``idx`` as a uint8 tensor ``(N, C, H, W)`` in [0, 255]."""

    def float(self, idx: Index) -> torch.Tensor:
        """Images ``idx`` as float32 ``(N, C, H, W)`` in [-1, 1] (the generators' tanh range)."""
        return self.uint8(idx).float().div_(127.5).sub_(1.0)

    @property
    def key(self) -> str:
        """Identifies the pixels exactly (for caches): name, split, transform."""
        return f"{self.name}/{self.split}/{self.transform}"

    def describe(self) -> dict:
        return {
            "dataset": self.name, "split": self.split, "size": len(self), "channels": self.channels,
            "resolution": self.resolution, "transform": self.transform, "source": self.source,
        }

    @property
    def native(self) -> "ImageSet":
        """The stored images, before any view transform (what metrics compare against)."""
        return self

    def to_native(self, images: torch.Tensor) -> torch.Tensor:
        """Map uint8 images shaped like this view's back to the native resolution (identity here)."""
        return images

    def at_resolution(self, resolution: int, mode: str = "pad") -> "ImageSet":
        """This set brought to ``resolution`` by an explicit, recorded transform."""
        if resolution == self.resolution:
            return self
        return ResizedImageSet(self, resolution, mode)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.name}/{self.split}: {len(self)} x "
                f"{self.channels}x{self.resolution}x{self.resolution}, transform={self.transform}>")


class TensorImageSet(ImageSet):
    """An image set held in memory as one uint8 tensor (every built-in dataset fits)."""

    def __init__(self, data: torch.Tensor, name: str, split: str, source: str, transform: str = "none"):
        if data.dtype != torch.uint8 or data.ndim != 4 or data.shape[2] != data.shape[3]:
            raise BadInput(f"{name}: expected square uint8 images (N, C, H, H), got {tuple(data.shape)} {data.dtype}")
        self.data = data
        self.name, self.split, self.source, self.transform = name, split, source, transform
        self.channels = int(data.shape[1])
        self.resolution = int(data.shape[2])

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def uint8(self, idx: Index) -> torch.Tensor:
        if isinstance(idx, slice):
            return self.data[idx]
        return self.data[torch.as_tensor(idx, dtype=torch.long)]


class ResizedImageSet(ImageSet):
    """Another set, padded (zero border, centred) or resized (bilinear, antialiased) to a new size."""

    def __init__(self, base: ImageSet, resolution: int, mode: str):
        if mode not in RESOLUTION_MODES:
            raise BadInput(f"unknown resolution mode {mode!r}; use one of {', '.join(RESOLUTION_MODES)}")
        if mode == "pad" and resolution < base.resolution:
            raise BadInput(f"cannot pad {base.resolution}px images down to {resolution}px; use mode 'resize'")
        self.base, self.mode = base, mode
        self.name, self.split, self.source, self.channels = base.name, base.split, base.source, base.channels
        self.resolution = resolution
        step = f"{mode}{base.resolution}to{resolution}"
        self.transform = step if base.transform == "none" else f"{base.transform}+{step}"

    def __len__(self) -> int:
        return len(self.base)

    @property
    def native(self) -> ImageSet:
        return self.base.native

    def to_native(self, images: torch.Tensor) -> torch.Tensor:
        """Undo the view on generated images: crop the border a pad added, or resize back."""
        r = self.base.resolution
        if self.mode == "pad":
            lo = (self.resolution - r) // 2
            x = images[..., lo:lo + r, lo:lo + r]
        else:
            x = F.interpolate(images.float(), size=(r, r), mode="bilinear", align_corners=False, antialias=True)
            x = x.round_().clamp_(0, 255).to(torch.uint8)
        return self.base.to_native(x)

    def uint8(self, idx: Index) -> torch.Tensor:
        x = self.base.uint8(idx)
        if self.mode == "pad":
            total = self.resolution - self.base.resolution
            lo = total // 2
            return F.pad(x, (lo, total - lo, lo, total - lo), value=0)
        y = F.interpolate(x.float(), size=(self.resolution, self.resolution), mode="bilinear",
                          align_corners=False, antialias=True)
        return y.round_().clamp_(0, 255).to(torch.uint8)
