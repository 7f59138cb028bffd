"""The speed-ups change no numbers beyond float noise: fused optimisers and one D forward over real+fake
(batch norm per half) against the plain path, on a few real training steps."""

import dataclasses

import pytest
import torch

from ganbench.config import ArchSpec
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel
from ganbench.zoo.nets import build_nets, split_batches


def test_split_batch_norm_equals_two_forwards():
    _, D1 = build_nets(ArchSpec(name="dcgan", variant="infogan", width=8, d_norm="batch"), (1, 28, 28), seed=0)
    _, D2 = build_nets(ArchSpec(name="dcgan", variant="infogan", width=8, d_norm="batch"), (1, 28, 28), seed=0)
    real, fake = torch.randn(6, 1, 28, 28), torch.randn(6, 1, 28, 28) * 2 + 1
    separate = torch.cat([D1(real), D1(fake)])
    with split_batches(D2, 2):
        joint = D2(torch.cat([real, fake]))
    assert torch.allclose(joint, separate, atol=1e-5)
    # running statistics updated half by half, exactly as two forwards do
    for a, b in zip(D1.buffers(), D2.buffers()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6)
    # outside the context the net normalises over the whole batch again
    assert not torch.allclose(D2(torch.cat([real, fake])), separate, atol=1e-3)


def _train(spec, fast, steps=3):
    data = torch.randint(0, 256, (256, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0, fast=fast)
    batches, gen = BatchStream(data, spec.batch_size, seed=2), torch.Generator().manual_seed(1)
    losses = [model.train_step(batches, gen) for _ in range(steps)]
    return model, losses


@pytest.mark.parametrize("name", ["lucic-ns", "lucic-wgan-gp", "lucic-dragan"])
def test_fast_path_gives_the_same_training(name):
    spec = load_baseline(name)
    spec = dataclasses.replace(spec, batch_size=16, arch=dataclasses.replace(spec.arch, width=16))
    slow, slow_losses = _train(spec, fast=False)
    fast, fast_losses = _train(spec, fast=True)
    assert fast.joint_d and not slow.joint_d
    for a, b in zip(slow_losses, fast_losses):
        for k in a:
            assert a[k].item() == pytest.approx(b[k].item(), rel=1e-4, abs=1e-5), k
    # after 3 steps both nets compute the same functions up to float noise. (Raw weights are not compared:
    # a bias just before batch norm gets a zero gradient, which Adam turns into +-lr steps of pure noise.)
    z = torch.rand(32, spec.arch.z_dim, generator=torch.Generator().manual_seed(5)) * 2 - 1
    x = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(6)) * 2 - 1
    with torch.no_grad():
        for mode in ("train", "eval"):
            for m in (slow, fast):
                getattr(m.G, mode)(), getattr(m.D, mode)()
            assert torch.allclose(slow.G(z), fast.G(z), atol=1e-4), mode
            assert torch.allclose(slow.D(x), fast.D(x), atol=1e-4, rtol=1e-4), mode
