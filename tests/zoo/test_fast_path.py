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
from tests.helpers import load_script


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


@pytest.mark.parametrize("fast", [False, True])
def test_bench_train_counts_dcgans_step_flops_as_by_hand(fast):
    """scripts/bench_train.py's GFLOP per step (torch.utils.flop_counter) is the count by hand, exactly: the
    'share of the peak' it reports can only be wrong through its timing or its peak. dcgan at 32x32, batch 64.
    A layer of MACs per image: transposed conv in*cin*cout*k^2 (in: input pixels), conv out*cin*cout*k^2."""
    bench = load_script("bench_train")
    g_layers = [1 * 100 * 256 * 16, 16 * 256 * 128 * 16, 64 * 128 * 64 * 16, 256 * 64 * 1 * 16]  # 1->4->8->16->32
    d_layers = [256 * 1 * 64 * 16, 64 * 64 * 128 * 16, 16 * 128 * 256 * 16, 1 * 256 * 1 * 16]  # 32->16->8->4->1
    fg, fd = 2 * sum(g_layers), 2 * sum(d_layers)  # forward FLOPs per image (multiply + add)
    forward = 2 * fg + 3 * fd  # D step: G, D(real), D(fake); G step: G, D(fake)
    # backward, weight grads and input grads (2 forwards' worth), less the input grads no one needs: the D step
    # on real and fake (D's first layer takes images); the G step through D (input grads only: D is frozen) and G
    # (its first layer takes z)
    backward = 2 * (2 * fd - 2 * d_layers[0]) + (fd) + (2 * fg - 2 * g_layers[0])
    by_hand = 64 * (forward + backward) / 1e9
    assert by_hand == pytest.approx(26.2668288, abs=1e-9)
    counted = bench.count_gflop(load_baseline("dcgan"), 32, torch.device("cpu"), fast, False)
    assert counted == pytest.approx(by_hand, rel=1e-12)


def test_bench_trains_flop_count_follows_a_gradient_penalty_as_by_hand():
    """The count follows the penalty's double backward (torch's FlopCounterMode cannot). One convolution D, GP on it
    with zoo.double_backward: the forward, the input gradient (first pass), and its derivative in the weight (a
    weight gradient); not in the output gradient, a constant here (D's outputs summed): 3 convolutions' worth."""
    from ganbench.zoo import double_backward as db
    from ganbench.zoo.regularizers import gradient_penalty

    bench = load_script("bench_train")
    conv = db.Conv2d(2, 3, 3, 1, 1, bias=False)
    real, fake = torch.randn(4, 2, 5, 5), torch.randn(4, 2, 5, 5)
    with bench.FlopCount() as counter:
        gradient_penalty(lambda x: conv(x).flatten(1).sum(1), real, fake, torch.Generator().manual_seed(0)).backward()
    one_conv = 2 * 4 * 5 * 5 * 3 * 2 * 9  # 2 x N x H x W x C_out x C_in x k^2
    assert counter.flops == 3 * one_conv


def test_step_rate_times_a_phase_in_a_process_on_the_checkout_it_is_given(tmp_path):
    """``bench_train.step_rate`` (``bench_pggan --vs-rev``, the malloc lever): a fresh process that imports the
    checkout it is pointed at, not the editable install, and refuses to time any other."""
    bench = load_script("bench_train")
    args = ["--model", "pggan", "--width", "4", "--phase", "fade in 8x8", "--steps", "1", "--warmup", "0",
            "--threads", "1"]
    assert bench.step_rate([*args, "--malloc", "keep"]) > 0
    with pytest.raises(RuntimeError, match="not the checkout"):  # no ganbench there: the editable install's is
        bench.step_rate(args, tmp_path)
