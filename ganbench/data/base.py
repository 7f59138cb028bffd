"""The one kind of object every dataset returns: a sized, indexable set of images, with class labels when it has them.

``uint8(idx)`` gives ``(N, C, H, W)`` uint8 tensors for evaluation; ``float(idx)`` gives the
same images in [-1, 1] for training; ``labels(idx)`` gives their ``(N,)`` int64 class labels, or
None when ``num_classes`` is 0 (unlabelled). ``transform`` names every change made to the stored
pixels (e.g. ``pad28to32``) so results can record it: nothing is resized silently.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence, Union

import torch
import torch.nn.functional as F

from ..errors import BadInput
from ..images import to_float

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
    num_classes: int = 0  # 0: unlabelled

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def uint8(self, idx: Index) -> torch.Tensor:
        """Images ``idx`` as a uint8 tensor ``(N, C, H, W)`` in [0, 255]."""

    def float(self, idx: Index) -> torch.Tensor:
        """Images ``idx`` as float32 ``(N, C, H, W)`` in [-1, 1] (the generators' tanh range)."""
        return to_float(self.uint8(idx))

    def labels(self, idx: Index) -> torch.Tensor | None:
        """Class labels ``(N,)`` int64 of images ``idx``, in [0, num_classes); None when unlabelled."""
        return None

    def class_counts(self) -> torch.Tensor | None:
        """Images per class ``(num_classes,)``, or None when unlabelled (the class distribution samples follow)."""
        labels = self.labels(slice(None))
        return None if labels is None else torch.bincount(labels, minlength=self.num_classes)

    @property
    def key(self) -> str:
        """Identifies the pixels exactly (for caches): name, split, transform."""
        return f"{self.name}/{self.split}/{self.transform}"

    def describe(self) -> dict:
        return {
            "dataset": self.name, "split": self.split, "size": len(self), "channels": self.channels,
            "resolution": self.resolution, "transform": self.transform, "source": self.source,
            "num_classes": self.num_classes,
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

    def __init__(self, data: torch.Tensor, name: str, split: str, source: str, transform: str = "none",
                 labels: torch.Tensor | None = None, num_classes: int | None = None):
        if data.dtype != torch.uint8 or data.ndim != 4 or data.shape[2] != data.shape[3]:
            raise BadInput(f"{name}: expected square uint8 images (N, C, H, H), got {tuple(data.shape)} {data.dtype}")
        self.data = data
        self._labels, self.num_classes = check_labels(labels, len(data), name, num_classes)
        self.name, self.split, self.source, self.transform = name, split, source, transform
        self.channels = int(data.shape[1])
        self.resolution = int(data.shape[2])

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def uint8(self, idx: Index) -> torch.Tensor:
        if isinstance(idx, slice):
            return self.data[idx]
        return self.data[torch.as_tensor(idx, dtype=torch.long)]

    def labels(self, idx: Index) -> torch.Tensor | None:
        if self._labels is None:
            return None
        return self._labels[idx] if isinstance(idx, slice) else self._labels[torch.as_tensor(idx, dtype=torch.long)]


def check_labels(labels, n: int, name: str, num_classes: int | None = None) -> tuple[torch.Tensor | None, int]:
    """Labels as an int64 tensor ``(n,)`` with their class count (the given one, else max + 1); a clear error
    when they do not fit the images."""
    if labels is None:
        return None, 0
    t = torch.as_tensor(labels)
    if t.ndim != 1 or len(t) != n:
        raise BadInput(f"{name}: expected one label per image ({n}), got labels of shape {tuple(t.shape)}")
    if t.dtype == torch.bool or (t.dtype.is_floating_point and not torch.equal(t, t.round())):
        raise BadInput(f"{name}: labels must be integers (class indices), got {t.dtype} values")
    t = t.long()
    if n and int(t.min()) < 0:
        raise BadInput(f"{name}: labels must be class indices 0, 1, 2, ..., found {int(t.min())}; renumber them "
                       "from 0 (or leave them out)")
    k = int(num_classes) if num_classes is not None else (int(t.max()) + 1 if n else 0)
    if n and (int(t.min()) < 0 or int(t.max()) >= k):
        raise BadInput(f"{name}: labels must lie in [0, {k}), found [{int(t.min())}, {int(t.max())}]")
    return t, k


def undo_resolution(images: torch.Tensor, resolution: int, mode: str) -> torch.Tensor:
    """uint8 images brought to another size by ``mode`` (``pad``: a centred zero border; ``resize``), mapped back to
    ``resolution``: the centre crop, or a bilinear antialiased resize."""
    if mode == "pad":
        lo = (images.shape[-1] - resolution) // 2
        return images[..., lo:lo + resolution, lo:lo + resolution]
    x = F.interpolate(images.float(), size=(resolution, resolution), mode="bilinear", align_corners=False,
                      antialias=True)
    return x.round_().clamp_(0, 255).to(torch.uint8)


class ResizedImageSet(ImageSet):
    """Another set, padded (zero border, centred) or resized (bilinear, antialiased) to a new size."""

    def __init__(self, base: ImageSet, resolution: int, mode: str):
        if mode not in RESOLUTION_MODES:
            raise BadInput(f"unknown resolution mode {mode!r}; use one of {', '.join(RESOLUTION_MODES)}")
        if mode == "pad" and resolution < base.resolution:
            raise BadInput(f"cannot pad {base.resolution}px images down to {resolution}px; use mode 'resize'")
        self.base, self.mode = base, mode
        self.name, self.split, self.source, self.channels = base.name, base.split, base.source, base.channels
        self.num_classes = base.num_classes
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
        return self.base.to_native(undo_resolution(images, self.base.resolution, self.mode))

    def labels(self, idx: Index) -> torch.Tensor | None:
        return self.base.labels(idx)

    def uint8(self, idx: Index) -> torch.Tensor:
        x = self.base.uint8(idx)
        if self.mode == "pad":
            total = self.resolution - self.base.resolution
            lo = total // 2
            return F.pad(x, (lo, total - lo, lo, total - lo), value=0)
        y = F.interpolate(x.float(), size=(self.resolution, self.resolution), mode="bilinear",
                          align_corners=False, antialias=True)
        return y.round_().clamp_(0, 255).to(torch.uint8)


class SliceImageSet(ImageSet):
    """Images ``[start, stop)`` of another set, named ``SPLIT[start:stop]`` (a validation split held out of a
    training split: ``train[:50000]`` to train on, ``train[50000:]`` to select on)."""

    def __init__(self, base: ImageSet, start: int, stop: int):
        n = len(base)
        if not 0 <= start < stop <= n:
            raise BadInput(f"{base.name}/{base.split}: slice [{start}:{stop}] does not fit its {n} images")
        self.base, self.start, self.stop = base, start, stop
        self.name, self.source, self.channels, self.resolution = base.name, base.source, base.channels, base.resolution
        self.transform, self.num_classes = base.transform, base.num_classes
        self.split = f"{base.split}[{start}:{stop}]"

    def __len__(self) -> int:
        return self.stop - self.start

    def _index(self, idx: Index):
        if isinstance(idx, slice):
            lo, hi, step = idx.indices(len(self))
            return slice(self.start + lo, self.start + hi, step)
        return torch.as_tensor(idx, dtype=torch.long) + self.start

    def uint8(self, idx: Index) -> torch.Tensor:
        return self.base.uint8(self._index(idx))

    def labels(self, idx: Index) -> torch.Tensor | None:
        return self.base.labels(self._index(idx))
