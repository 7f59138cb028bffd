"""Conditioning: labels reach G and D in every net family, and each method's terms equal a hand computation."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from ganbench.config import ArchSpec
from ganbench.errors import BadInput
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.conditioning import ConditionalBatchNorm, Heads
from ganbench.zoo.model import GANModel
from ganbench.zoo.nets import build_nets

FAMILIES = [("mlp", "standard"), ("dcgan", "standard"), ("dcgan", "infogan"), ("resnet", "standard")]
METHODS = [("concat", "concat"), ("concat", "ac"), ("cbn", "projection")]


def nets(name, variant, g, d, k=10):
    G, D = build_nets(ArchSpec(name=name, variant=variant, width=8, z_dim=16, g_conditioning=g, d_conditioning=d),
                      (1, 28, 28), num_classes=k, seed=0)
    return G.eval(), D.eval()


CASES = [(n, v, g, d) for n, v in FAMILIES for g, d in METHODS if not (g == "cbn" and n == "mlp")]  # mlp: no BN


@pytest.mark.parametrize("name,variant,g,d", CASES)
def test_labels_reach_g_and_d(name, variant, g, d):
    G, D = nets(name, variant, g, d)
    if g == "cbn":  # fresh cBN starts at gain 1, bias 0: give the classes different gains to see them
        for m in G.modules():
            if isinstance(m, ConditionalBatchNorm):
                torch.nn.init.normal_(m.gain.weight, 1.0, 0.5)
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(1))
    c0, c1 = torch.zeros(4, dtype=torch.long), torch.full((4,), 3)
    with torch.no_grad():
        x0, x1 = G(z, c0), G(z, c1)
        assert x0.shape == (4, 1, 28, 28) and not torch.allclose(x0, x1)
        h0, h1 = D(x0, c0), D(x0, c1)
    assert isinstance(h0, Heads) and h0.adv.shape == (4,)
    if d == "ac":  # the classifier reads the image, not the label: same logits, and K of them
        assert torch.equal(h0.adv, h1.adv) and h0.cls.shape == (4, 10) and torch.equal(h0.cls, h1.cls)
    else:
        assert not torch.allclose(h0.adv, h1.adv)
    with pytest.raises(BadInput, match="needs labels"):
        G(z)


def test_cbn_per_class_scale_and_shift_by_hand():
    bn = ConditionalBatchNorm(torch.nn.BatchNorm2d(3), num_classes=4).eval()
    with torch.no_grad():
        bn.gain.weight.copy_(torch.arange(12, dtype=torch.float).view(4, 3))
        bn.bias.weight.copy_(-torch.arange(12, dtype=torch.float).view(4, 3) / 10)
    x = torch.randn(2, 3, 5, 5, generator=torch.Generator().manual_seed(0))
    bn.labels = torch.tensor([1, 3])
    out = bn(x)
    normed = x / (1 + 1e-5) ** 0.5  # eval mode with fresh running stats: mean 0, var 1
    for i, k in enumerate((1, 3)):
        for ch in range(3):
            gain, shift = 3 * k + ch, -(3 * k + ch) / 10
            assert torch.allclose(out[i, ch], normed[i, ch] * gain + shift, atol=1e-5)


def test_projection_term_by_hand():
    G, D = nets("dcgan", "infogan", "none", "projection", k=5)
    x = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 4, 2])
    with torch.no_grad():
        phi = D.body.features(x)
        psi = D.body.apply_head(phi).view(-1)
        V = D.embed.weight  # (F, K): the embedding of class k is column k
        by_hand = psi + torch.stack([V[:, y[i]] @ phi[i] for i in range(3)])
        assert torch.allclose(D(x, y).adv, by_hand, atol=1e-5)


def _tiny(spec):
    return dataclasses.replace(spec, batch_size=8, arch=dataclasses.replace(spec.arch, width=8))


def test_ac_loss_is_cross_entropy_by_hand():
    spec = _tiny(load_baseline("acgan"))
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0, num_classes=10)
    logits = torch.randn(6, 10, generator=torch.Generator().manual_seed(3))
    labels = torch.tensor([0, 9, 3, 3, 7, 1])
    by_hand = -sum(torch.log_softmax(logits[i], 0)[labels[i]] for i in range(6)) / 6
    assert model.class_loss(logits, labels).item() == pytest.approx(by_hand.item(), abs=1e-6)
    # and a training step adds it to D's loss: logged as ac_d, > 0
    data = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    logs = model.train_step(BatchStream(data, 8, 0, labels=torch.arange(32) % 10), torch.Generator().manual_seed(1))
    assert logs["ac_d"].item() > 0 and torch.isfinite(logs["g_loss"])


@pytest.mark.parametrize("name", ["cgan", "cgan-conv", "acgan", "cgan-pd"])
def test_conditional_baselines_train_a_few_steps(name):
    spec = _tiny(load_baseline(name))
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0, num_classes=10, class_probs=torch.tensor([1.0] * 9 + [0.0]))
    data = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8)
    batches, gen = BatchStream(data, 8, 0, labels=torch.arange(32) % 10), torch.Generator().manual_seed(1)
    for _ in range(3):
        logs = model.train_step(batches, gen)
    assert all(torch.isfinite(v) for v in logs.values())
    assert (model.fake_labels(200, gen) < 9).all()  # fakes follow the class distribution (class 9 has none)
    with pytest.raises(BadInput, match="needs labelled batches"):
        model.train_step(BatchStream(data, 8, 0), gen)


def test_conditional_model_needs_classes():
    with pytest.raises(BadInput, match="needs a labelled dataset"):
        build_nets(ArchSpec(name="dcgan", g_conditioning="concat", d_conditioning="concat"), (1, 28, 28))


def test_unconditional_models_are_unchanged():
    a, _ = build_nets(ArchSpec(name="dcgan", width=8), (1, 28, 28), seed=0)
    b, _ = build_nets(ArchSpec(name="dcgan", width=8), (1, 28, 28), seed=0, num_classes=10)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    assert not hasattr(a, "num_classes") and F.one_hot(torch.tensor([1]), 3).tolist() == [[0, 1, 0]]
