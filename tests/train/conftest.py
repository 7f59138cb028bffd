import dataclasses

import pytest
import torch

from ganbench.data import array_image_set


from tests.helpers import tiny_nets_on_one_thread  # noqa: F401  (autouse: every test here trains tiny nets)


@pytest.fixture(scope="session")
def tiny_data():
    """64 random 28x28 grayscale images with labels 0-9 (conditional baselines need them; the others ignore them)."""
    g = torch.Generator().manual_seed(0)
    return array_image_set(torch.randint(0, 256, (64, 1, 28, 28), generator=g, dtype=torch.uint8).numpy(), "tiny",
                           labels=(torch.arange(64) % 10).numpy())


def shrink(spec, width=4, batch=8):
    """A baseline shrunk for CPU tests: narrow nets, batch 8, 8-d noise."""
    return dataclasses.replace(spec, batch_size=batch, arch=dataclasses.replace(spec.arch, width=width, z_dim=8))


@pytest.fixture
def tiny():
    return shrink
