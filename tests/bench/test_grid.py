"""Grid expansion: cross product, named presets, dotted fields, impossible combinations."""

import pytest

from ganbench.bench.ablation import expand_grid, parse_grid
from ganbench.config import ModelSpec
from ganbench.errors import BadInput

BASE = ModelSpec(name="dcgan")


def test_cross_product_of_the_issue_example():
    axes = parse_grid(["loss=ns,hinge,wgan-gp", "arch=dcgan,resnet", "trick=none,sn"])
    variants = expand_grid(BASE, axes)
    assert len(variants) == 3 * 2 * 2
    names = [s.name for s, _ in variants]
    assert len(set(names)) == 12 and "wgan-gp/resnet/sn" in names
    groups = {s.name: g for s, g in variants}
    assert groups["hinge/dcgan/none"] == {"loss": "hinge", "arch": "dcgan", "trick": "none"}
    spec = {s.name: s for s, _ in variants}
    gp = spec["wgan-gp/resnet/sn"]
    assert gp.loss == "wgan" and gp.tricks.gradient_penalty == 10.0 and gp.tricks.n_critic == 5
    assert gp.arch.name == "resnet" and gp.tricks.spectral_norm_d and gp.optim_d.betas == (0.0, 0.9)
    assert spec["wgan-gp/dcgan/none"].arch.d_norm == "layer"  # no batch norm under a gradient penalty
    plain = spec["ns/dcgan/none"]
    assert plain.loss == "ns" and not plain.tricks.spectral_norm_d and plain.tricks == BASE.tricks
    assert len({s.hash() for s, _ in variants}) == 12


def test_dotted_fields_and_combined_tricks():
    variants = expand_grid(BASE, parse_grid(["tricks.n_critic=1,5", "trick=sn+ema"]))
    assert [s.tricks.n_critic for s, _ in variants] == [1, 5]
    assert all(s.tricks.ema == 0.999 and s.tricks.spectral_norm_d for s, _ in variants)


@pytest.mark.parametrize("items, message", [
    (["loss=nope"], "unknown loss 'nope'; known: minimax, ns"),
    (["arch=transformer"], "unknown arch"),
    (["trick=sn+magic"], "unknown trick 'magic'"),
    (["colour=red"], "unknown axis 'colour'"),
    (["tricks.bogus=1"], "not a field"),
    (["loss"], "AXIS=V1,V2"),
    (["loss=ns,ns"], "repeats"),
    (["loss=ns", "loss=hinge"], "given twice"),
    (["loss=wgan-clip", "trick=none,sn"], "impossible"),
    (["trick=none,ls", "loss=hinge"], "impossible"),
    (["tricks.n_critic=x"], "expected int"),
])
def test_bad_grids_fail_before_training(items, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(")):
        expand_grid(BASE, parse_grid(items))


def test_grid_over_the_dcgan_baseline_swaps_batch_norm_under_penalties():
    from ganbench.zoo.baselines import load_baseline

    base = load_baseline("dcgan")
    variants = dict((s.name, s) for s, _ in expand_grid(base, parse_grid(["loss=ns,wgan-gp"])))
    assert variants["ns"].arch.d_norm == base.arch.d_norm
    assert variants["wgan-gp"].arch.d_norm == "layer" and variants["wgan-gp"].loss == "wgan"


def test_issue_grid_over_the_real_dcgan_baseline():
    from ganbench.zoo.baselines import load_baseline

    base = load_baseline("dcgan")
    variants = {s.name: s for s, _ in expand_grid(base, parse_grid(
        ["loss=ns,hinge,wgan-gp", "arch=dcgan,resnet", "trick=none,sn"]))}
    assert len(variants) == 12
    assert variants["ns/dcgan/none"].hash() == base.hash()  # the base itself: its results are shared
    assert variants["ns/resnet/none"].arch.d_norm == "default"  # resnet has no batch-norm critic
    assert variants["wgan-gp/dcgan/sn"].arch.d_norm == "layer"
