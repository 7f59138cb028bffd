"""Dataset layer: each kind's shape, dtype, range and counts; the lookup order; bad inputs."""

from pathlib import Path

import numpy as np
import pytest
import torch

from ganbench.data import get_dataset
from ganbench.data.builtin import DEBIAN_FASHION_MNIST
from ganbench.data.idx import read_idx
from ganbench.errors import BadInput, MissingAsset

from .helpers import write_cifar10, write_mnist_like

HAVE_DEBIAN_FMNIST = Path(DEBIAN_FASHION_MNIST, "t10k-images-idx3-ubyte.gz").is_file()
needs_fmnist = pytest.mark.skipif(not HAVE_DEBIAN_FMNIST, reason="apt-get install dataset-fashion-mnist")


@needs_fmnist
@pytest.mark.parametrize("split,count", [("train", 60000), ("test", 10000)])
def test_fashion_mnist_counts_shape_dtype(split, count):
    ds = get_dataset("fashion-mnist", split, download=False)
    assert len(ds) == count
    assert (ds.channels, ds.resolution) == (1, 28)
    x = ds.uint8(slice(0, 16))
    assert x.shape == (16, 1, 28, 28) and x.dtype == torch.uint8
    f = ds.float([0, 5, 9])
    assert f.dtype == torch.float32 and f.min() >= -1 and f.max() <= 1
    # float() is the exact affine image of uint8(): x/127.5 - 1
    torch.testing.assert_close(f, ds.uint8([0, 5, 9]).double().div(127.5).sub(1).float())
    assert ds.source.startswith(DEBIAN_FASHION_MNIST)


@needs_fmnist
def test_fashion_mnist_matches_torchvision_reader(tmp_path):
    """Our IDX reader against torchvision's own, on the real test images (decompressed)."""
    import gzip

    from torchvision.datasets.mnist import read_image_file

    raw = tmp_path / "t10k-images-idx3-ubyte"
    raw.write_bytes(gzip.decompress(Path(DEBIAN_FASHION_MNIST, "t10k-images-idx3-ubyte.gz").read_bytes()))
    ours = torch.from_numpy(read_idx(raw).copy())
    assert torch.equal(ours, read_image_file(str(raw)))


def test_lookup_order_root_then_env_then_cache_then_system(tmp_path, monkeypatch):
    root, env, cache = tmp_path / "root", tmp_path / "env", tmp_path / "ganbench-cache"
    a = write_mnist_like(root / "fashion-mnist", 3, 2, seed=1)
    b = write_mnist_like(env, 4, 2, seed=2, compress=True)
    c = write_mnist_like(cache / "datasets" / "FashionMNIST" / "raw", 5, 2, seed=3)
    monkeypatch.setenv("GANBENCH_DATA", str(env))
    # --data-root wins over $GANBENCH_DATA
    ds = get_dataset("fashion-mnist", "train", root=root, download=False)
    assert len(ds) == 3 and np.array_equal(ds.uint8(slice(None))[:, 0].numpy(), a["train"])
    # $GANBENCH_DATA next (gzipped files are read too)
    ds = get_dataset("fashion-mnist", "train", download=False)
    assert len(ds) == 4 and np.array_equal(ds.uint8(slice(None))[:, 0].numpy(), b["train"])
    # then the user cache folder, in torchvision's layout
    monkeypatch.delenv("GANBENCH_DATA")
    ds = get_dataset("fashion-mnist", "test", download=False)
    assert len(ds) == 2 and np.array_equal(ds.uint8(slice(None))[:, 0].numpy(), c["t10k"])


@needs_fmnist
def test_lookup_falls_back_to_debian_package():
    ds = get_dataset("fashion-mnist", "test", download=False)  # empty isolated cache
    assert ds.source.startswith(DEBIAN_FASHION_MNIST)


def test_missing_data_lists_every_place_and_the_fix(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    from ganbench.data import DATASETS

    monkeypatch.setattr(DATASETS.get("fashion-mnist"), "system_dirs", (str(tmp_path / "nowhere"),))

    def offline(*a, **k):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(tvd, "FashionMNIST", offline)
    with pytest.raises(MissingAsset) as e:
        get_dataset("fashion-mnist", "test", root=tmp_path / "r")
    msg = str(e.value)
    assert str(tmp_path / "r") in msg and str(tmp_path / "nowhere") in msg and "ganbench-cache" in msg
    assert "download failed" in msg and "apt-get install dataset-fashion-mnist" in msg and "\n" not in msg


def test_unknown_dataset_and_split_list_known_ones():
    with pytest.raises(BadInput, match=r"unknown dataset 'imagenet'.*fashion-mnist.*mnist.*cifar10.*folder:PATH"):
        get_dataset("imagenet")
    with pytest.raises(BadInput, match=r"no split 'val'.*train, test"):
        get_dataset("mnist", "val")


def test_mnist_real_layout(tmp_path):
    """torchvision's on-disk layout: ROOT/MNIST/raw/*-idx?-ubyte."""
    written = write_mnist_like(tmp_path / "MNIST" / "raw", 7, 3)
    for split, prefix, n in (("train", "train", 7), ("test", "t10k", 3)):
        ds = get_dataset("mnist", split, root=tmp_path, download=False)
        assert len(ds) == n and ds.uint8(slice(None)).shape == (n, 1, 28, 28)
        assert np.array_equal(ds.uint8(slice(None))[:, 0].numpy(), written[prefix])


def test_truncated_idx_file_is_reported(tmp_path):
    write_mnist_like(tmp_path / "MNIST" / "raw", 4, 2)
    f = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:-10])
    with pytest.raises(BadInput, match="truncated"):
        get_dataset("mnist", "train", root=tmp_path, download=False)


def test_cifar10_real_layout(tmp_path):
    written = write_cifar10(tmp_path, per_batch=4)
    train = get_dataset("cifar10", "train", root=tmp_path, download=False)
    test = get_dataset("cifar10", "test", root=tmp_path, download=False)
    assert (len(train), len(test)) == (20, 4)
    assert (train.channels, train.resolution) == (3, 32)
    assert np.array_equal(train.uint8(slice(None)).numpy(), written["train"])
    assert np.array_equal(test.uint8([3, 0]).numpy(), written["test"][[3, 0]])


def test_cifar10_missing_names_places(tmp_path):
    with pytest.raises(MissingAsset, match=r"cifar10 not found: looked in .*cifar-10-batches-py"):
        get_dataset("cifar10", "train", root=tmp_path, download=False)


def test_pad_to_32_is_explicit_and_recorded():
    data = torch.randint(1, 256, (5, 1, 28, 28), dtype=torch.uint8)
    from ganbench.data import TensorImageSet

    ds = TensorImageSet(data, "toy", "train", source="memory")
    padded = ds.at_resolution(32, "pad")
    x = padded.uint8(slice(None))
    assert x.shape == (5, 1, 32, 32) and padded.transform == "pad28to32"
    assert torch.equal(x[:, :, 2:30, 2:30], data)
    assert x[:, :, :2].sum() == 0 and x[:, :, 30:].sum() == 0 and x[..., :2].sum() == 0
    resized = ds.at_resolution(32, "resize")
    assert resized.transform == "resize28to32" and resized.uint8([0]).shape == (1, 1, 32, 32)
    assert padded.key != ds.key != resized.key
    with pytest.raises(BadInput, match="unknown resolution mode"):
        ds.at_resolution(32, "stretch")


def test_to_native_undoes_the_view():
    """Generated images at the nets' resolution map back to the stored one: crop undoes pad exactly."""
    from ganbench.data import TensorImageSet

    data = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    ds = TensorImageSet(data, "toy", "test", source="memory")
    padded = ds.at_resolution(32, "pad")
    assert padded.native is ds and ds.native is ds
    assert torch.equal(padded.to_native(padded.uint8(slice(None))), data)
    resized = ds.at_resolution(32, "resize")
    back = resized.to_native(resized.uint8(slice(None)))
    assert back.shape == data.shape and back.dtype == torch.uint8
    assert (back.float() - data.float()).abs().mean() < 40  # lossy, but the same picture


def test_a_split_slice_holds_out_a_validation_split():
    """``train[50000:]``: the last 10,000 training images, to select on; ``train[:50000]`` to train on."""
    full = get_dataset("fashion-mnist", "train")
    fit, val = get_dataset("fashion-mnist", "train[:50000]"), get_dataset("fashion-mnist", "train[50000:]")
    assert (len(fit), len(val), val.split) == (50_000, 10_000, "train[50000:60000]")
    assert torch.equal(val.uint8([0, 9999]), full.uint8([50_000, 59_999]))
    assert torch.equal(val.labels(slice(0, 5)), full.labels(slice(50_000, 50_005)))
    assert torch.equal(fit.uint8(slice(-2, None)), full.uint8(slice(49_998, 50_000)))
    assert fit.key != full.key != val.key  # caches keep them apart
    for bad, match in (("train[5:2]", "does not fit"), ("train[:70000]", "does not fit"), ("train[a:]", "slice"),
                       ("val[:10]", "no split 'val'")):
        with pytest.raises(BadInput, match=match):
            get_dataset("fashion-mnist", bad)
