"""The baseline YAMLs: all load strictly, cite a paper, and carry the papers' key hyperparameters."""

import re

import pytest

from ganbench.errors import BadInput
from ganbench.zoo.baselines import list_baselines, load_baseline

REQUIRED = {"gan", "dcgan", "wgan", "wgan-gp", "lsgan", "dragan", "hinge", "sngan", "sngan-ema-diffaug"}


def test_all_required_baselines_load_and_cite():
    """Every baseline cites at least one paper by its arXiv id, and each id agrees with the year cited just before
    it (published in the id's year or the next): a mistyped id or year fails."""
    specs = list_baselines()
    assert REQUIRED <= set(specs)
    for name, spec in specs.items():
        assert spec.name == name and spec.description
        paper = " ".join(spec.paper.split())
        ids = list(re.finditer(r"arXiv:(\d{2})(\d{2})\.\d{4,5}", paper))
        assert ids, f"{name}: no arXiv id in {paper!r}"
        for m in ids:
            years = re.findall(r"\b(20[0-2]\d)\b", paper[:m.start()])
            assert years, f"{name}: no year before {m.group(0)}"
            assert 2000 + int(m.group(1)) <= int(years[-1]) <= 2001 + int(m.group(1)), (name, m.group(0), years[-1])
            assert 1 <= int(m.group(2)) <= 12, (name, m.group(0))


def test_paper_hyperparameters():
    wgan, gp, sngan = load_baseline("wgan"), load_baseline("wgan-gp"), load_baseline("sngan")
    assert (wgan.optim_d.name, wgan.optim_d.lr, wgan.tricks.weight_clip, wgan.tricks.n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    assert (gp.optim_d.lr, gp.tricks.gradient_penalty, gp.tricks.n_critic, gp.arch.d_norm) == (1e-4, 10.0, 5, "none")
    assert (sngan.arch.name, sngan.loss, sngan.tricks.spectral_norm_d, sngan.optim_d.betas) == \
        ("resnet", "hinge", True, (0.0, 0.9))
    assert load_baseline("dcgan").optim_g.betas == (0.5, 0.999)


def test_unknown_and_path(tmp_path):
    with pytest.raises(BadInput, match="baselines: .*dcgan"):
        load_baseline("dcgan2")
    p = tmp_path / "mine.yaml"
    p.write_text("loss: lsgan\n")
    assert load_baseline(str(p)).name == "mine"
