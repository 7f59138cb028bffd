"""Progressive growing: the schedule's phases and alpha, the PGGAN layers by hand, the fade-in blend, exact resume
in the middle of a transition, and the constant schedule changing nothing."""

import dataclasses
import math
import re

import pytest
import torch

from ganbench.config import ArchSpec
from ganbench.data import array_image_set
from ganbench.train.checkpoint import load_checkpoint
from ganbench.train.data import BatchStream
from ganbench.train.loop import Progress
from ganbench.train.trainer import TrainOptions, train
from ganbench.zoo.baselines import list_baselines, load_baseline
from ganbench.zoo.model import GANModel
from ganbench.zoo.nets import build_nets, split_batches
from ganbench.zoo.nets.pggan import EqualizedConv2d, EqualizedLinear, fade_reals, minibatch_stddev, pixel_norm, upsample
from ganbench.zoo.schedules import Phase, Progressive


def test_phase_sequence_and_alpha_by_hand():
    s = Progressive(resolution=32, total_kimg=700)  # 4, 8, 16, 32: 7 phases of 100 kimg
    assert s.phase_kimg == 100
    names = [name for _, name in s.boundaries()]
    assert names == ["stabilise 4x4", "fade in 8x8", "stabilise 8x8", "fade in 16x16", "stabilise 16x16",
                     "fade in 32x32", "stabilise 32x32"]
    for kimg, res, alpha in [(0, 4, 1.0), (99.9, 4, 1.0), (100, 8, 0.0), (125, 8, 0.25), (150, 8, 0.5),
                             (199, 8, 0.99), (200, 8, 1.0), (350, 16, 0.5), (540, 32, 0.4), (650, 32, 1.0),
                             (700, 32, 1.0), (900, 32, 1.0)]:
        p = s.phase(Progress(0, int(kimg * 1000), 1))
        assert (p.resolution, p.alpha) == (res, pytest.approx(alpha, abs=1e-9)), kimg


def _official_phase(kimg: float, resolution_log2: int = 5, training: float = 600.0, transition: float = 600.0):
    """tkarras/progressive_growing_of_gans train.py TrainingSchedule: the level of detail at ``kimg`` (lod_initial
    4x4), as (resolution, fade-in alpha). During a transition lod falls from L to L - 1: the new block's weight is
    1 - frac(lod) at resolution 2 ** (log2 - floor(lod))."""
    phase_dur = training + transition
    idx = math.floor(kimg / phase_dur)
    lod = resolution_log2 - 2 - idx - max(kimg - idx * phase_dur - training, 0.0) / transition
    lod = max(lod, 0.0)
    return 2 ** (resolution_log2 - math.floor(lod)), 1.0 - (lod - math.floor(lod))


def test_the_official_phase_share_follows_train_py_trainingschedule():
    # config.py preset-v2: total_kimg 12000, lod_training_kimg = lod_transition_kimg = 600 (train.py defaults);
    # at 32x32 the six phases below it take 3600 kimg and the full resolution the other 8400
    s = Progressive(resolution=32, total_kimg=12000, phase_share=0.05)
    assert s.phase_kimg == 600 and s.boundaries()[-1] == (3600, "stabilise 32x32")
    # (at the first instant of a fade-in the official lod still names the old resolution at full weight, where this
    # schedule names the new one at weight 0: the same images, so the points are taken just inside each phase)
    for kimg in [0, 599, 600.5, 750, 1199, 1200, 1900, 2400, 2999.5, 3000.5, 3300, 3599, 3600, 8000, 11999]:
        p = s.phase_at(kimg)
        res, alpha = _official_phase(kimg)
        assert (p.resolution, p.alpha) == (res, pytest.approx(alpha, abs=1e-9)), kimg
    # scaled to a 1000-kimg run: 50 kimg per phase, 700 kimg at 32x32
    small = Progressive(resolution=32, total_kimg=1000, phase_share=0.05)
    assert small.phase_kimg == 50 and small.boundaries()[-1] == (300, "stabilise 32x32")
    assert (small.phase_at(275).resolution, small.phase_at(275).alpha) == (32, pytest.approx(0.5))
    assert small.describe()["phase_share"] == 0.05 and "phase_share" not in Progressive(32, 1000).describe()


def test_the_pggan_baseline_takes_the_official_share_and_bad_shares_are_refused():
    from ganbench.errors import BadInput
    from ganbench.zoo.specs import check_registered

    pg = load_baseline("pggan")
    assert pg.schedule_phase_share == 0.05
    even = dataclasses.replace(pg, schedule_phase_share=0.0)
    assert even.hash() != pg.hash()  # rows trained on the even split keep their own keys
    for bad, says in [(dataclasses.replace(pg, schedule_phase_share=0.5), "[0, 0.5)"),
                      (dataclasses.replace(load_baseline("dcgan"), schedule_phase_share=0.05), "progressive")]:
        with pytest.raises(BadInput, match=re.escape(says)):
            check_registered(bad)
    with pytest.raises(BadInput, match="would take the whole run"):
        Progressive(resolution=1024, total_kimg=1000, phase_share=0.07)  # 16 phases below 1024x1024


def test_equalised_learning_rate_scales_at_run_time():
    conv = EqualizedConv2d(16, 8, 3)
    x = torch.randn(2, 16, 5, 5)
    effective = conv.weight * math.sqrt(2 / (16 * 3 * 3))
    assert torch.allclose(conv(x), torch.nn.functional.conv2d(x, effective, conv.bias, padding=1), atol=1e-6)
    lin = EqualizedLinear(10, 4, gain=1.0)
    assert torch.allclose(lin(torch.eye(10)), (lin.weight / math.sqrt(10)).T + lin.bias, atol=1e-6)
    assert conv.weight.std().item() == pytest.approx(1.0, rel=0.15)  # stored ~ N(0, 1)


def test_minibatch_stddev_by_hand():
    x = torch.tensor([1.0, 3.0, 2.0, 6.0, 5.0, 7.0, 4.0, 10.0]).view(8, 1, 1, 1).expand(8, 2, 2, 2).clone()
    x[:, 1] *= 2  # a second feature map with twice the spread
    out = minibatch_stddev(x, group=4)
    assert out.shape == (8, 3, 2, 2) and torch.equal(out[:, :2], x)
    # groups: samples {0, 2, 4, 6} and {1, 3, 5, 7} (i mod 2), population std per feature, averaged over features
    for members in ((0, 2, 4, 6), (1, 3, 5, 7)):
        v = torch.tensor([[1.0, 3.0, 2.0, 6.0, 5.0, 7.0, 4.0, 10.0][i] for i in members])
        sd = math.sqrt(((v - v.mean()) ** 2).mean().item() + 1e-8)
        sd2 = math.sqrt(((2 * v - 2 * v.mean()) ** 2).mean().item() + 1e-8)
        for i in members:
            assert out[i, 2].flatten().tolist() == pytest.approx([(sd + sd2) / 2] * 4, rel=1e-5)


def test_pixel_norm_gives_unit_mean_square():
    y = pixel_norm(torch.randn(3, 16, 4, 4) * 5 + 2)
    assert torch.allclose(y.pow(2).mean(dim=1), torch.ones(3, 4, 4), atol=1e-5)


def test_g_output_during_fade_in_is_the_blend_of_both_paths():
    G, _ = build_nets(ArchSpec(name="pggan", z_dim=16, width=8), (1, 32, 32), seed=0)
    G.eval()
    z = torch.randn(4, 16)
    with torch.no_grad():
        G.set_phase(16, 0.3)
        blended = G(z)
        x = pixel_norm(G.dense(pixel_norm(z)).view(4, G.nf(1), 4, 4))
        x = pixel_norm(torch.nn.functional.leaky_relu(x, 0.2))
        h = pixel_norm(torch.nn.functional.leaky_relu(G.conv4(x), 0.2))
        h8 = G.block(h, 3)
        h16 = G.block(h8, 4)
        old = upsample(G.to_rgb[1](h8))  # 8x8 toRGB, upsampled to 16
        new = G.to_rgb[2](h16)
        by_hand = upsample((1 - 0.3) * old + 0.3 * new, 2).clamp(-1, 1)  # to the full 32x32
    assert torch.allclose(blended, by_hand, atol=1e-5)


def test_reals_are_blended_like_the_generator():
    x = torch.rand(2, 1, 32, 32)
    got = fade_reals(x, 32, 8, 0.25)
    x8 = torch.nn.functional.avg_pool2d(x, 4)
    x4 = torch.nn.functional.avg_pool2d(x8, 2)
    expected = upsample(0.25 * x8 + 0.75 * upsample(x4), 4)
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(fade_reals(x, 32, 32, 1.0), x)


def tiny_pggan():
    """pggan at width 4 over 7 equal phases (schedule_phase_share 0), so a few steps cross every phase."""
    spec = load_baseline("pggan")
    return dataclasses.replace(spec, batch_size=8, arch=dataclasses.replace(spec.arch, width=4, z_dim=8),
                               schedule_phase_share=0.0)


def test_resume_in_the_middle_of_a_fade_in_is_exact(tmp_path, one_thread):
    data = array_image_set(torch.randint(0, 256, (64, 1, 28, 28), generator=torch.Generator().manual_seed(0),
                                         dtype=torch.uint8).numpy(), "tiny")
    spec = tiny_pggan()  # 28 px data padded to 32: 7 phases over 14 steps, 2 steps each
    kw = dict(progress=False, options=TrainOptions(tensorboard=False, view="native", log_every=1, sample_every=100,
                                                   schedule_kimg=14 * 8 / 1000))
    straight = train(spec, data, tmp_path / "a", steps=14, **kw)
    train(spec, data, tmp_path / "b", steps=7, **kw)  # steps 7-8: the fade-in to 16x16 (alpha 0 -> 0.5)
    assert load_checkpoint(tmp_path / "b")["phase"]["name"] == "fade in 16x16"
    resumed = train(spec, data, tmp_path / "b", steps=14, **kw)
    assert straight.status == resumed.status == "ok" and straight.steps == resumed.steps == 14
    a, b = load_checkpoint(tmp_path / "a")["model"], load_checkpoint(tmp_path / "b")["model"]
    for net in ("G", "D"):
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), (net, k)
    grids = sorted(p.name for p in (tmp_path / "a" / "samples").glob("phase_*.png"))
    assert len(grids) == 7 and grids[0].endswith("stabilise-4x4.png")  # a grid at the end of every phase
    # stopping mid-phase (as a curve point does) is not the end of a phase: the resumed run has the same grids
    assert sorted(p.name for p in (tmp_path / "b" / "samples").glob("phase_*.png")) == grids


def test_a_checkpoint_mid_growth_samples_in_its_phase(tmp_path, one_thread):
    """The curve's FID at 250 kimg is taken from a checkpoint in the 16x16 phase: load_generator must make 16x16
    images (upsampled), not pass z through the 32x32 layers that have not trained yet."""
    from ganbench.train.checkpoint import load_generator
    data = array_image_set(torch.randint(0, 256, (64, 1, 28, 28), generator=torch.Generator().manual_seed(0),
                                         dtype=torch.uint8).numpy(), "tiny")
    kw = dict(progress=False, options=TrainOptions(tensorboard=False, view="native", log_every=1, sample_every=100,
                                                   schedule_kimg=14 * 8 / 1000))
    train(tiny_pggan(), data, tmp_path, steps=9, **kw)  # step 9: stabilise 16x16
    phase = load_checkpoint(tmp_path)["phase"]
    assert (phase["resolution"], phase["alpha"]) == (16, 1.0)
    G = load_generator(tmp_path, device="cpu")  # the test's z is on the CPU, also where CUDA is present
    x = G(torch.randn(6, G.z_dim, generator=torch.Generator().manual_seed(1)))
    assert x.shape == (6, 1, 32, 32)
    assert torch.equal(x, upsample(x[:, :, ::2, ::2]))  # 16x16 detail, nearest-upsampled to the full size
    for m in G.modules():
        if hasattr(m, "set_phase"):
            m.set_phase(None)  # the full-size net the loader used to return
    full = G(torch.randn(6, G.z_dim, generator=torch.Generator().manual_seed(1)))
    assert not torch.equal(full, upsample(full[:, :, ::2, ::2]))


@pytest.mark.parametrize("name", sorted(n for n in list_baselines() if n != "pggan"))
def test_constant_schedule_changes_nothing(name, one_thread):
    spec = load_baseline(name)
    spec = dataclasses.replace(spec, batch_size=8, arch=dataclasses.replace(spec.arch, width=4, z_dim=8))
    res = 28
    data = torch.randint(0, 256, (32, 1, res, res), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(32) % 10
    models = []
    for with_phase in (False, True):
        m = GANModel(spec, (1, res, res), "cpu", seed=0, num_classes=10)
        if with_phase:
            m.set_phase(Phase())
        b, g = BatchStream(data, 8, 2, labels=labels), torch.Generator().manual_seed(1)
        for _ in range(2):
            m.train_step(b, g)
        models.append(m)
    for k, v in models[0].G.state_dict().items():
        assert torch.equal(v, models[1].G.state_dict()[k]), k


def _small_pggan(images: int):
    """pggan at width 8, batch 8, z 16, and ``images`` random 32x32 uint8 training images."""
    spec = load_baseline("pggan")
    spec = dataclasses.replace(spec, batch_size=8, arch=dataclasses.replace(spec.arch, width=8, z_dim=16))
    return spec, torch.randint(0, 256, (images, 1, 32, 32), dtype=torch.uint8,
                               generator=torch.Generator().manual_seed(0))


def test_one_joint_d_forward_and_the_drift_reuse_train_as_before():
    """The speed-ups of pggan's step change no numbers beyond float noise: real and fake in one D forward (the
    minibatch stddev per half under split_batches) against two, and the drift term read from the loss's own D
    forward, against the plain path (fast=False) that forwards D on each batch alone."""
    spec, data = _small_pggan(64)
    runs = []
    for fast in (False, True):
        model = GANModel(spec, (1, 32, 32), "cpu", seed=0, fast=fast)
        model.set_phase(Phase(resolution=16, alpha=0.5, name="fade in 16x16"))
        batches, gen = BatchStream(data, 8, seed=2), torch.Generator().manual_seed(1)
        runs.append((model, [model.train_step(batches, gen) for _ in range(3)]))
    (slow, slow_logs), (fast, fast_logs) = runs
    assert fast.joint_d and not slow.joint_d
    for a, b in zip(slow_logs, fast_logs):
        for k in a:
            assert a[k].item() == pytest.approx(b[k].item(), rel=1e-4, abs=1e-6), k
    x = torch.rand(16, 1, 32, 32, generator=torch.Generator().manual_seed(6)) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(slow.D(x), fast.D(x), atol=1e-4, rtol=1e-4)
        separate = torch.cat([fast.D(x[:8]), fast.D(x[8:])])
        assert not torch.allclose(fast.D(x), separate, atol=1e-5)  # one batch of 16: other stddev groups
        with split_batches(fast.D, 2):  # one forward over two batches = two forwards
            assert torch.allclose(fast.D(x), separate, atol=1e-6)


def test_pggan_trains_channels_last_by_default_with_the_same_numbers():
    spec, data = _small_pggan(32)
    logs = []
    for channels_last in (None, False):
        model = GANModel(spec, (1, 32, 32), "cpu", seed=0, channels_last=channels_last)
        assert (model.memory_format is torch.channels_last) == (channels_last is None)
        batches, gen = BatchStream(data, 8, seed=2), torch.Generator().manual_seed(1)
        logs.append([model.train_step(batches, gen) for _ in range(2)])
    for a, b in zip(*logs):
        for k in a:
            assert a[k].item() == pytest.approx(b[k].item(), rel=1e-4, abs=1e-6), k
