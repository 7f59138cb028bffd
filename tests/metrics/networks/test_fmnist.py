"""The offline Fashion-MNIST space: the shipped weights are the pinned ones, the network classifies the test split
as well as its recipe promised, and its features are FD-ready with no download."""

import pytest
import torch

from ganbench.data import get_dataset
from ganbench.errors import BadInput, MissingAsset
from ganbench.io import sha256_file
from ganbench.metrics.networks import fmnist
from ganbench.metrics.networks.base import NetOptions


def test_shipped_weights_are_pinned_and_small():
    assert fmnist.WEIGHTS.is_file() and sha256_file(fmnist.WEIGHTS) == fmnist.SHA256
    assert fmnist.WEIGHTS.stat().st_size < 1_000_000  # well under 1 MB


def test_its_test_accuracy_is_the_stated_one():
    net = fmnist.load(NetOptions(torch.device("cpu")))
    test = get_dataset("fashion-mnist", "test")
    x, y = test.uint8(slice(None)), test.labels(slice(None))
    with torch.no_grad():
        pred = torch.cat([net.module(x[i:i + 2000]).argmax(1) for i in range(0, len(x), 2000)])
    assert float((pred == y).float().mean()) == pytest.approx(fmnist.TEST_ACCURACY, abs=1e-4)
    feats = net(x[:5], {"fmnist"})["fmnist"]
    assert feats.shape == (5, 128) and torch.isfinite(feats).all()


def test_it_refuses_other_images_and_a_changed_file(tmp_path, monkeypatch):
    net = fmnist.load(NetOptions(torch.device("cpu")))
    with pytest.raises(BadInput, match="1x28x28"):
        net(torch.zeros(2, 3, 32, 32, dtype=torch.uint8), {"fmnist"})
    bad = tmp_path / "fmnist_cnn.pt"
    bad.write_bytes(fmnist.WEIGHTS.read_bytes() + b"x")
    monkeypatch.setattr(fmnist, "WEIGHTS", bad)
    with pytest.raises(MissingAsset, match="SHA-256"):
        fmnist.load(NetOptions(torch.device("cpu")))
