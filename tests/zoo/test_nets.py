"""Every net family at every resolution and channel count: shapes, ranges, init seeding."""

import pytest
import torch

from ganbench.config import ArchSpec
from ganbench.errors import BadInput
from ganbench.zoo.nets import NETS, build_nets, upsampling_plan

CASES = [(name, variant, r) for name in NETS for variant in NETS.get(name).variants if variant != "toy"
         for r in NETS.get(name).resolutions]


@pytest.mark.parametrize("name,variant,resolution", CASES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_range(name, variant, resolution, channels):
    G, D = build_nets(ArchSpec(name=name, variant=variant, width=4, z_dim=8), (channels, resolution, resolution))
    x = G.eval()(torch.randn(4, G.z_dim))  # eval: the sampling path (pggan clips its linear output there)
    assert x.shape == (4, channels, resolution, resolution)
    assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (4,)


def test_paper_sizes():
    # SNGAN CIFAR ResNet (Miyato et al. 2018): about 4.3M parameters in G and 1.05M in D.
    G, D = build_nets(ArchSpec(name="resnet", width=64, z_dim=128), (3, 32, 32))
    assert sum(p.numel() for p in G.parameters()) == pytest.approx(4.28e6, rel=0.01)
    assert sum(p.numel() for p in D.parameters()) == pytest.approx(1.05e6, rel=0.01)
    G, _ = build_nets(ArchSpec(name="mlp", width=64, z_dim=100), (1, 28, 28))
    assert [m.out_features for m in G.modules() if isinstance(m, torch.nn.Linear)] == [256, 512, 1024, 784]


def test_upsampling_plan():
    assert upsampling_plan(28) == (7, 2) and upsampling_plan(32) == (4, 3) and upsampling_plan(64) == (4, 4)


def test_toy_mlp_outputs_points():
    G, D = build_nets(ArchSpec(name="mlp", variant="toy", width=8, z_dim=4), (2,))
    assert G(torch.randn(5, 4)).shape == (5, 2) and D(torch.randn(5, 2)).shape == (5,)


def test_seeded_init_is_reproducible_and_leaves_global_rng():
    state = torch.random.get_rng_state()
    a, _ = build_nets(ArchSpec(name="dcgan", width=4), (1, 32, 32), seed=3)
    b, _ = build_nets(ArchSpec(name="dcgan", width=4), (1, 32, 32), seed=3)
    c, _ = build_nets(ArchSpec(name="dcgan", width=4), (1, 32, 32), seed=4)
    assert torch.equal(torch.random.get_rng_state(), state)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_conv_nets_reject_other_shapes():
    with pytest.raises(BadInput, match="28/32/64"):
        build_nets(ArchSpec(name="dcgan", width=4), (1, 48, 48))
    with pytest.raises(BadInput, match="unknown architecture"):
        build_nets(ArchSpec(name="nope"), (1, 32, 32))
