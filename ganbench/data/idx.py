"""Sources for the IDX-format datasets (Fashion-MNIST, MNIST), read with numpy, gzip or not."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from ..errors import BadInput, MissingAsset
from ..io import cache_dir
from .base import ImageSet, TensorImageSet

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (LeCun's format: magic 0x0000TTDD, DD big-endian int32 dims, data)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise MissingAsset(f"cannot read {path}: {e}; delete it so ganbench looks elsewhere or re-downloads") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise BadInput(f"{path} is not an IDX file (bad magic number); replace it with the original file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = 4 + 4 * ndim + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != expected:
        raise BadInput(f"{path} is truncated or corrupt ({len(raw)} bytes, header says {expected}); replace it")
    return np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim).reshape(tuple(dims))


class IdxSource:
    """A 28x28 grayscale IDX dataset found on disk or downloaded through torchvision."""

    splits = ("train", "test")

    def __init__(self, name: str, description: str, tv_class: str, system_dirs: tuple[str, ...] = (),
                 system_hint: str = "", num_classes: int = 10):
        self.name, self.description, self.tv_class = name, description, tv_class
        self.num_classes = num_classes
        self.system_dirs, self.system_hint = system_dirs, system_hint

    def _candidates(self, root: str | None) -> list[Path]:
        dirs: list[Path] = []
        for base in ([Path(root)] if root else []) + [cache_dir("datasets")]:
            dirs += [base, base / self.name, base / self.tv_class / "raw"]
        return dirs + [Path(d) for d in self.system_dirs]

    def searched(self, root: str | None = None) -> list[str]:
        return [str(d) for d in self._candidates(root)]

    @staticmethod
    def _file(folder: Path, split: str, what: str = "images-idx3") -> Path | None:
        for ext in ("", ".gz"):
            p = folder / f"{SPLIT_PREFIX[split]}-{what}-ubyte{ext}"
            if p.is_file():
                return p
        return None

    def locate(self, root: str | None = None) -> Path | None:
        for folder in self._candidates(root):
            if all(self._file(folder, s) for s in self.splits):
                return folder
        return None

    def _download(self) -> Path:
        import torchvision.datasets as tvd

        target = cache_dir("datasets")
        for train in (True, False):
            getattr(tvd, self.tv_class)(str(target), train=train, download=True)
        return target / self.tv_class / "raw"

    def load(self, split: str, root: str | None = None, download: bool = True) -> ImageSet:
        folder = self.locate(root)
        if folder is None and download:
            try:
                folder = self._download()
            except Exception as e:  # no network, server down, ...: fall through to the message
                reason = f"download failed ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
            else:
                reason = ""
        else:
            reason = "download disabled"
        if folder is None:
            hint = f"; {self.system_hint}" if self.system_hint else ""
            raise MissingAsset(
                f"{self.name} not found: looked in {', '.join(self.searched(root))}; {reason}. "
                f"Put the IDX files in one of those folders or pass --data-root{hint}"
            )
        path = self._file(folder, split)
        images = read_idx(path)
        if images.ndim != 3:
            raise BadInput(f"{path}: expected a 3-d image array (N, H, W), got shape {images.shape}")
        data = torch.from_numpy(images.astype(np.uint8, copy=True)).unsqueeze(1)
        label_path = self._file(folder, split, "labels-idx1")
        labels = None
        if label_path is not None:
            raw = read_idx(label_path)
            if raw.shape != (len(data),):
                raise BadInput(f"{label_path}: expected {len(data)} labels, got shape {raw.shape}; replace the file")
            labels = torch.from_numpy(raw.astype(np.int64))
        return TensorImageSet(data, self.name, split, source=str(path), labels=labels,
                              num_classes=self.num_classes if labels is not None else None)
