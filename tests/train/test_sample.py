"""Loading a trained generator and drawing seeded uint8 samples from it."""

import torch

from ganbench.train.checkpoint import load_generator
from ganbench.images import to_uint8
from ganbench.zoo.sampler import sample_images
from ganbench.train.trainer import TrainOptions, train
from ganbench.zoo.baselines import load_baseline


def test_to_uint8_inverts_imageset_float():
    u = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(to_uint8(u.float() / 127.5 - 1.0), u)


def test_load_generator_and_sample(tiny_data, tmp_path, tiny):
    spec = tiny(load_baseline("sngan-ema-diffaug"))
    train(spec, tiny_data, tmp_path, steps=3, progress=False, options=TrainOptions(tensorboard=False))
    G = load_generator(tmp_path)
    raw = load_generator(tmp_path / "checkpoint.pt", use_ema=False)
    assert G.z_dim == 8 and not G.training
    x = sample_images(G, 10, seed=1, batch_size=4)
    assert x.dtype == torch.uint8 and x.shape == (10, 1, 32, 32)
    assert torch.equal(x, sample_images(G, 10, seed=1, batch_size=4))
    assert not torch.equal(x, sample_images(G, 10, seed=2, batch_size=4))
    assert not torch.equal(x, sample_images(raw, 10, seed=1, batch_size=4))  # EMA weights differ from G's
