"""``arrays:PATH``: samples in a ``.npy`` / ``.npz`` file, NHWC or NCHW, uint8 or float with a stated range."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import BadInput
from .base import ImageSet, TensorImageSet
from .registry import LoadOptions, register_prefix

NPZ_KEYS = ("images", "samples", "x", "arr_0")
#: The array of class labels in an ``.npz`` (one int per image), when present.
LABEL_KEYS = ("labels", "y")


def _read(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                label_key = next((k for k in LABEL_KEYS if k in keys), None)
                image_keys = [k for k in keys if k != label_key]
                key = image_keys[0] if len(image_keys) == 1 else next((k for k in NPZ_KEYS if k in keys), None)
                if key is None:
                    raise BadInput(f"arrays:{path}: holds several arrays ({', '.join(keys)}); "
                                   f"name the images one of {', '.join(NPZ_KEYS)} (and labels one of "
                                   f"{', '.join(LABEL_KEYS)})")
                labels = z[label_key] if label_key else None
                if labels is not None and labels.ndim != 1:
                    raise BadInput(f"arrays:{path}: array {label_key!r} is read as the class labels (an array named "
                                   f"{' or '.join(LABEL_KEYS)} is), but has shape {labels.shape}, not one label per "
                                   f"image; rename it if it holds images (images: {', '.join(NPZ_KEYS)})")
                return z[key], labels
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False), None
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise BadInput(f"arrays:{path}: cannot read it as numpy data ({e})") from None
    raise BadInput(f"arrays:{path}: expected a .npy or .npz file")


def to_nchw(a: np.ndarray, where: str) -> np.ndarray:
    """Accept (N, H, W), (N, C, H, W) or (N, H, W, C) with C in {1, 3}; return NCHW."""
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4:
        raise BadInput(f"{where}: expected images (N, H, W, C) or (N, C, H, W), got shape {a.shape}")
    if a.shape[3] in (1, 3) and a.shape[1] not in (1, 3):
        a = a.transpose(0, 3, 1, 2)
    elif a.shape[1] not in (1, 3):
        raise BadInput(f"{where}: no channel axis of size 1 or 3 in shape {a.shape}; "
                       "expected (N, H, W, C) or (N, C, H, W)")
    if a.shape[2] != a.shape[3]:
        raise BadInput(f"{where}: images must be square, got {a.shape[2]}x{a.shape[3]}")
    if a.shape[0] == 0:
        raise BadInput(f"{where}: holds no images")
    return a


def to_uint8(a: np.ndarray, value_range: tuple[float, float] | None, where: str) -> np.ndarray:
    """uint8 passes through; integers must lie in [0, 255]; floats need their range stated."""
    if a.dtype == np.uint8:
        return a
    if np.issubdtype(a.dtype, np.integer):
        if a.min() < 0 or a.max() > 255:
            raise BadInput(f"{where}: integer images must lie in [0, 255], found [{a.min()}, {a.max()}]")
        return a.astype(np.uint8)
    if not np.issubdtype(a.dtype, np.floating):
        raise BadInput(f"{where}: unsupported dtype {a.dtype}; use uint8 or float")
    if not np.isfinite(a).all():
        raise BadInput(f"{where}: contains {int((~np.isfinite(a)).sum())} NaN/Inf value(s); fix the samples")
    if value_range is None:
        raise BadInput(f"{where}: float images need their range stated: pass --range -1,1 or --range 0,1")
    lo, hi = value_range
    tol = 1e-3 * (hi - lo)
    if a.min() < lo - tol or a.max() > hi + tol:
        raise BadInput(f"{where}: values span [{a.min():.4g}, {a.max():.4g}], outside the stated range [{lo}, {hi}]")
    # Same mapping as torchvision.utils.save_image: x in [lo, hi] -> round(255 * (x - lo) / (hi - lo)).
    return np.clip(np.rint((a.astype(np.float64) - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)


def array_image_set(a: np.ndarray, name: str, value_range: tuple[float, float] | None = None,
                    source: str = "memory", labels: np.ndarray | None = None) -> ImageSet:
    """Validate and wrap an in-memory array (also used for tensors handed to the API), with optional labels."""
    a = to_uint8(to_nchw(np.asarray(a), name), value_range, name)
    return TensorImageSet(torch.from_numpy(np.ascontiguousarray(a)), name, "all", source=source,
                          labels=None if labels is None else torch.from_numpy(np.asarray(labels)))


@register_prefix("arrays")
def load_arrays(path: str, options: LoadOptions = LoadOptions()) -> ImageSet:
    p = Path(path).expanduser()
    if not p.is_file():
        raise BadInput(f"arrays:{path}: no such file")
    if options.resize is not None:
        raise BadInput(f"arrays:{path}: --resize applies to folder: inputs; arrays are used at their own size")
    where = f"arrays:{path}"
    images, labels = _read(p)
    return array_image_set(images, where, options.value_range, source=str(p), labels=labels)
