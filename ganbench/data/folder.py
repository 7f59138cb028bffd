"""``folder:PATH``: every image under a folder, recursively, decoded lazily with Pillow.

A folder whose images all sit in sub-folders one level down (``PATH/CLASS/*.png``, at least two) is
labelled: one class per sub-folder, in sorted order of their names (torchvision's ImageFolder rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import BadInput
from .base import ImageSet, Index
from .registry import LoadOptions, register_prefix

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N")


def _names(paths: list[Path], root: Path, limit: int = 5) -> str:
    shown = ", ".join(str(p.relative_to(root)) for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


class FolderImageSet(ImageSet):
    """Images in files; all must share one square size unless ``resize`` is given."""

    def __init__(self, root: Path, files: list[Path], channels: int, resolution: int, resize: int | None):
        self.root, self.files, self.resize = root, files, resize
        self.classes = class_folders(root, files)
        self.num_classes = len(self.classes)
        index = {c: i for i, c in enumerate(self.classes)}
        self._labels = torch.tensor([index[f.relative_to(root).parts[0]] for f in files], dtype=torch.long) \
            if self.classes else None
        self.name, self.split, self.source = f"folder:{root}", "all", str(root)
        self.channels, self.resolution = channels, resolution
        self.transform = f"resize{resize}-bicubic" if resize else "none"

    def __len__(self) -> int:
        return len(self.files)

    def _decode(self, path: Path) -> np.ndarray:
        try:
            with Image.open(path) as im:
                im = to_8bit(im, self.channels, path)
                if self.resize and im.size != (self.resize, self.resize):
                    im = im.resize((self.resize, self.resize), Image.BICUBIC)
                arr = np.asarray(im, dtype=np.uint8)
        except (OSError, UnidentifiedImageError) as e:
            raise BadInput(f"cannot decode image {path}: {e}; remove or replace the file") from None
        return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)

    def labels(self, idx: Index) -> torch.Tensor | None:
        if self._labels is None:
            return None
        return self._labels[idx] if isinstance(idx, slice) else self._labels[torch.as_tensor(idx, dtype=torch.long)]

    def describe(self) -> dict:
        return {**super().describe(), **({"classes": self.classes} if self.classes else {})}

    def uint8(self, idx: Index) -> torch.Tensor:
        indices = range(len(self))[idx] if isinstance(idx, slice) else [int(i) for i in idx]
        if not len(indices):
            return torch.empty(0, self.channels, self.resolution, self.resolution, dtype=torch.uint8)
        return torch.from_numpy(np.stack([self._decode(self.files[i]) for i in indices]))


#: 16-bit grayscale modes Pillow hands back for 16-bit PNGs and TIFFs.
SIXTEEN_BIT = ("I;16", "I;16L", "I;16B", "I;16N")


def check_mode(im: Image.Image, path: Path) -> None:
    """A one-line ``BadInput`` for the image modes whose pixels have no single right 8-bit reading: 32-bit integer
    or float pixels, CMYK, and transparency (what is under a transparent pixel?)."""
    mode = im.mode
    if mode == "I" and im.format == "PNG":
        return  # a 16-bit grayscale PNG, as older Pillow opens it (PNG pixels are never wider than 16 bits)
    if mode in ("I", "F"):
        raise BadInput(f"image {path} has {'32-bit integer' if mode == 'I' else 'floating-point'} pixels (mode {mode}), "
                       "whose range is not known; save it as an 8- or 16-bit PNG")
    if mode == "CMYK":
        raise BadInput(f"image {path} is CMYK; convert it to RGB with your colour profile first")
    if mode in ("LA", "RGBA", "PA") or (mode == "P" and "transparency" in im.info):
        alpha = np.asarray(im.convert("RGBA" if mode in ("P", "PA") else mode))[..., -1]
        if alpha.min() < 255:
            raise BadInput(f"image {path} has transparent pixels; flatten it onto a background first")


def to_8bit(im: Image.Image, channels: int, path: Path) -> Image.Image:
    """``im`` as an 8-bit grayscale (``channels`` 1) or RGB image at its real depth: 16-bit pixels scaled by
    1/257 (65535 -> 255: the 8-bit image a 16-bit one was made from comes back exactly), never clipped."""
    check_mode(im, path)
    if im.mode in SIXTEEN_BIT or im.mode == "I":  # "I" here: a 16-bit PNG (check_mode refused the others)
        arr = np.asarray(im).astype(np.float64) / 257.0
        im = Image.fromarray(np.rint(arr).clip(0, 255).astype(np.uint8), mode="L")
    return im.convert("L" if channels == 1 else "RGB")


def class_folders(root: Path, files: list[Path]) -> list[str]:
    """Class names when every image sits exactly one sub-folder deep and there are at least two; else []."""
    parts = [f.relative_to(root).parts for f in files]
    if not parts or any(len(p) != 2 for p in parts):
        return []
    names = sorted({p[0] for p in parts})
    return names if len(names) >= 2 else []


@register_prefix("folder")
def load_folder(path: str, options: LoadOptions = LoadOptions()) -> ImageSet:
    root = Path(path).expanduser()
    if not root.is_dir():
        raise BadInput(f"folder:{path}: no such folder")
    if options.value_range is not None:
        raise BadInput(f"folder:{path}: --range applies to arrays: inputs of floats; image files are 0-255")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)
    if not files:
        raise BadInput(f"folder:{path} holds no images ({', '.join(EXTENSIONS)}); point it at a folder of samples")
    sizes: dict[tuple[int, int], list[Path]] = {}
    unreadable: list[Path] = []
    gray = True
    for p in files:
        try:
            with Image.open(p) as im:
                check_mode(im, p)
                sizes.setdefault(im.size, []).append(p)
                gray &= im.mode in GRAY_MODES
        except (OSError, UnidentifiedImageError):
            unreadable.append(p)
    if unreadable:
        raise BadInput(f"folder:{path}: {len(unreadable)} unreadable image(s): {_names(unreadable, root)}; "
                       "remove or replace them")
    if options.resize:
        resolution = options.resize
    else:
        if len(sizes) > 1:
            common = max(sizes, key=lambda s: len(sizes[s]))
            odd = [p for s, ps in sizes.items() if s != common for p in ps]
            raise BadInput(f"folder:{path}: mixed image sizes (most are {common[0]}x{common[1]}; "
                           f"different: {_names(odd, root)}); resize them all to NxN (--resize N)")
        (w, h), = sizes
        if w != h:
            raise BadInput(f"folder:{path}: images are {w}x{h}, not square; resize them to NxN (--resize N)")
        resolution = w
    return FolderImageSet(root, files, 1 if gray else 3, resolution, options.resize)
