"""The named datasets: Fashion-MNIST (default), MNIST, CIFAR-10."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ..errors import BadInput, MissingAsset
from ..io import cache_dir
from .base import ImageSet, TensorImageSet
from .idx import IdxSource
from .registry import register

DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

register(IdxSource(
    "fashion-mnist", "Zalando's Fashion-MNIST: 70k 28x28 grayscale clothes (Xiao et al. 2017)", "FashionMNIST",
    system_dirs=(DEBIAN_FASHION_MNIST,),
    system_hint="on Debian/Ubuntu: apt-get install dataset-fashion-mnist",
))
register(IdxSource("mnist", "LeCun's MNIST: 70k 28x28 grayscale digits", "MNIST"))


class Cifar10Source:
    """CIFAR-10 in its python pickle layout (``cifar-10-batches-py``), downloaded by torchvision."""

    name = "cifar10"
    description = "CIFAR-10: 60k 32x32 colour images in 10 classes (Krizhevsky 2009)"
    splits = ("train", "test")
    folder = "cifar-10-batches-py"
    files = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}

    def _candidates(self, root: str | None) -> list[Path]:
        return [b / self.folder for b in ([Path(root)] if root else []) + [cache_dir("datasets")]]

    def searched(self, root: str | None = None) -> list[str]:
        return [str(p) for p in self._candidates(root)]

    def locate(self, root: str | None = None) -> Path | None:
        for folder in self._candidates(root):
            if all((folder / f).is_file() for files in self.files.values() for f in files):
                return folder
        return None

    def load(self, split: str, root: str | None = None, download: bool = True) -> ImageSet:
        folder = self.locate(root)
        reason = "download disabled"
        if folder is None and download:
            try:
                import torchvision.datasets as tvd

                tvd.CIFAR10(str(cache_dir("datasets")), train=True, download=True)
                folder = self.locate(None)
            except Exception as e:
                reason = f"download failed ({type(e).__name__})"
        if folder is None:
            raise MissingAsset(
                f"cifar10 not found: looked in {', '.join(self.searched(root))}; {reason}. "
                f"Extract cifar-10-python.tar.gz into one of those folders' parents or pass --data-root"
            )
        chunks, labels = [], []
        for f in self.files[split]:
            try:
                with open(folder / f, "rb") as fh:
                    batch = pickle.load(fh, encoding="bytes")
                chunks.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
            except (OSError, pickle.UnpicklingError, KeyError, ValueError, EOFError) as e:
                raise BadInput(f"{folder / f} is not a CIFAR-10 batch ({type(e).__name__}); re-download it") from None
        return TensorImageSet(torch.from_numpy(np.concatenate(chunks)), self.name, split, source=str(folder),
                              labels=torch.from_numpy(np.concatenate(labels)), num_classes=10)


register(Cifar10Source())
