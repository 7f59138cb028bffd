"""Labels come with the images wherever a dataset has them, and unlabelled sets say so (num_classes 0)."""

import gzip
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.data import array_image_set, get_dataset
from ganbench.errors import BadInput
from ganbench.train.data import BatchStream

from .helpers import write_cifar10, write_mnist_like


def test_fashion_mnist_labels_are_the_idx_label_files():
    test = get_dataset("fashion-mnist", "test")
    path = test.source.replace("images-idx3", "labels-idx1")
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    expected = np.frombuffer(raw, dtype=np.uint8, offset=8)
    assert test.num_classes == 10 and torch.equal(test.labels(slice(None)), torch.from_numpy(expected.astype(np.int64)))
    assert test.class_counts().tolist() == [1000] * 10  # Fashion-MNIST's test split is balanced
    assert test.labels([3, 0]).tolist() == [int(expected[3]), int(expected[0])]


def test_mnist_like_and_views_keep_labels(tmp_path):
    write_mnist_like(tmp_path, n_train=6, n_test=4)
    ds = get_dataset("mnist", "test", root=tmp_path, download=False)
    padded = ds.at_resolution(32, "pad")
    assert ds.num_classes == padded.num_classes == 10
    assert torch.equal(padded.labels(slice(None)), ds.labels(slice(None)))


def test_cifar10_labels(tmp_path):
    write_cifar10(tmp_path, per_batch=3)
    ds = get_dataset("cifar10", "test", root=tmp_path, download=False)
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "rb") as f:
        expected = pickle.load(f, encoding="bytes")[b"labels"]
    assert ds.num_classes == 10 and ds.labels(slice(None)).tolist() == list(expected)


def _png(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, dtype=np.uint8)).save(path)


def test_folder_with_one_subfolder_per_class(tmp_path):
    for cls, value in (("cat", 10), ("dog", 20)):
        for i in range(2):
            _png(tmp_path / "c" / cls / f"{i}.png", value + i)
    ds = get_dataset(f"folder:{tmp_path / 'c'}")
    assert ds.num_classes == 2 and ds.classes == ["cat", "dog"]
    assert ds.labels(slice(None)).tolist() == [0, 0, 1, 1] and ds.describe()["classes"] == ["cat", "dog"]
    # images at the top level (or at several depths): an unlabelled folder
    _png(tmp_path / "flat" / "a.png", 1)
    _png(tmp_path / "flat" / "b.png", 2)
    flat = get_dataset(f"folder:{tmp_path / 'flat'}")
    assert flat.num_classes == 0 and flat.labels(slice(None)) is None and flat.class_counts() is None


def test_arrays_with_labels_and_bad_labels(tmp_path):
    x = np.zeros((3, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "a.npz", images=x, labels=np.array([2, 0, 1]))
    ds = get_dataset(f"arrays:{tmp_path / 'a.npz'}")
    assert ds.num_classes == 3 and ds.labels(slice(None)).tolist() == [2, 0, 1]
    with pytest.raises(BadInput, match="one label per image"):
        array_image_set(x, "x", labels=np.array([0, 1]))
    with pytest.raises(BadInput, match="labels must be integers"):
        array_image_set(x, "x", labels=np.array([0.5, 1, 2]))
    with pytest.raises(BadInput, match=r"class indices 0, 1, 2, ..., found -1"):  # not "must lie in [0, 0)"
        array_image_set(x, "x", labels=np.array([0, -1, 2]))
    from ganbench.data.base import check_labels
    with pytest.raises(BadInput, match=r"labels must lie in \[0, 2\)"):
        check_labels(np.array([0, 1, 2]), 3, "x", num_classes=2)


def test_batches_carry_labels_and_unlabelled_batches_none():
    data = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1).expand(10, 1, 2, 2).contiguous()
    labels = torch.arange(10) % 3
    x, y = BatchStream(data, 4, seed=0, labels=labels)()
    assert torch.equal(y, (x[:, 0, 0, 0].add(1).mul(127.5).round().long()) % 3)  # the labels of those very images
    x2, y2 = BatchStream(data, 4, seed=0)()
    assert y2 is None and torch.equal(x, x2)  # labels never change the data order
