"""Writers for small datasets in their real on-disk formats."""

import gzip
import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> Path:
    """LeCun's IDX format: magic (0, 0, 0x08 uint8, ndim), big-endian int32 dims, raw bytes."""
    array = np.asarray(array, dtype=np.uint8)
    payload = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def write_mnist_like(folder: Path, n_train: int, n_test: int, seed: int = 0, compress: bool = False) -> dict:
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        write_idx(folder / f"{prefix}-images-idx3-ubyte", images, compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, size=n, dtype=np.uint8), compress)
        out[prefix] = images
    return out


def write_cifar10(root: Path, per_batch: int, seed: int = 0) -> dict:
    """The python pickle layout of cifar-10-python.tar.gz: 5 training batches and a test batch."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    out = {"train": [], "test": []}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": list(rng.integers(0, 10, per_batch))}, f)
        out["test" if name == "test_batch" else "train"].append(data.reshape(-1, 3, 32, 32))
    return {k: np.concatenate(v) for k, v in out.items()}
