"""The Lucic et al. 2018 protocol: the InfoGAN-style net and the per-loss hyperparameters, pinned to
google/compare_gan v1 (abstract_gan.py, ops.py, params.py, generate_tasks_lib.py)."""


import pytest
import torch
from torch import nn

from ganbench.bench.jobs import seed_plan
from ganbench.bench.tables import published_markdown
from ganbench.config import get_budget
from ganbench.studies import get_study
from ganbench.errors import BadInput
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.nets import build_nets


def _dense(i, o):  # ops.linear: weight + bias
    return i * o + o


def _conv(i, o, k=4):  # ops.conv2d / ops.deconv2d: k x k kernel + bias
    return i * o * k * k + o


def _bn(c):  # tf.contrib.layers.batch_norm(scale=True): gamma + beta
    return 2 * c


# Lucic et al. 2018, table 7 (and compare_gan's AbstractGAN), 28x28x1 data, z 64:
# G: FC 1024, BN, FC 7*7*128, BN, deconv 4x4/2 64, BN, deconv 4x4/2 1
G_PARAMS = _dense(64, 1024) + _bn(1024) + _dense(1024, 7 * 7 * 128) + _bn(7 * 7 * 128) + _conv(128, 64) + _bn(64) \
    + _conv(64, 1)
# D: conv 4x4/2 64, conv 4x4/2 128, [BN], FC 1024, [BN], FC 1
D_PARAMS = _conv(1, 64) + _conv(64, 128) + _dense(7 * 7 * 128, 1024) + _dense(1024, 1)
D_BN_PARAMS = _bn(128) + _bn(1024)


def test_net_parameter_counts_match_compare_gan():
    G, D = build_nets(load_baseline("lucic-ns").arch, (1, 28, 28))
    assert sum(p.numel() for p in G.parameters()) == G_PARAMS == 6_642_241
    assert sum(p.numel() for p in D.parameters()) == D_PARAMS + D_BN_PARAMS
    _, D_gp = build_nets(load_baseline("lucic-wgan-gp").arch, (1, 28, 28))
    assert sum(p.numel() for p in D_gp.parameters()) == D_PARAMS  # discriminator_batchnorm False


def test_layer_shapes_and_activations():
    G, D = build_nets(load_baseline("lucic-ns").arch, (1, 28, 28))
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append((type(m).__name__, tuple(o.shape[1:]))))
             for m in list(G.modules()) + list(D.modules()) if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    x = G(torch.rand(5, 64) * 2 - 1)
    D(x)
    for h in hooks:
        h.remove()
    assert shapes == [("Linear", (1024,)), ("Linear", (6272,)), ("ConvTranspose2d", (64, 14, 14)),
                      ("ConvTranspose2d", (1, 28, 28)), ("Conv2d", (64, 14, 14)), ("Conv2d", (128, 7, 7)),
                      ("Linear", (1024,)), ("Linear", (1,))]
    acts = [m for m in G.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    assert acts and all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in acts)  # ops.lrelu
    bns = [m for m in list(G.modules()) + list(D.modules()) if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert len(bns) == 5 and all(m.eps == 1e-3 and m.momentum == 1e-3 for m in bns)  # decay 0.999, epsilon 1e-3


def test_initialisation_follows_tf():
    G, D = build_nets(load_baseline("lucic-ns").arch, (1, 28, 28), seed=0)
    conv = [m for m in D.modules() if isinstance(m, nn.Conv2d)][1].weight
    assert conv.abs().max() <= 0.04 + 1e-7  # truncated normal, 2 std
    assert conv.std().item() == pytest.approx(0.02 * 0.88, rel=0.05)  # std of N(0, 1) truncated at 2: 0.88
    fc = [m for m in G.modules() if isinstance(m, nn.Linear)][1]
    assert fc.weight.std().item() == pytest.approx(0.02, rel=0.02) and torch.all(fc.bias == 0)
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm1d)][0]
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)


# compare_gan v1 params.py, the defaults GetDefaultParams uses (wide range), and generate_tasks_lib.py.
COMPARE_GAN = {
    "lucic-mm": dict(loss="minimax", lr=5e-5, beta1=0.0, disc_iters=1, bn=True),
    "lucic-ns": dict(loss="ns", lr=5e-5, beta1=0.0, disc_iters=1, bn=True),
    "lucic-lsgan": dict(loss="lsgan_sigmoid", lr=2e-4, beta1=0.5, disc_iters=1, bn=True),
    "lucic-wgan": dict(loss="wgan", lr=5e-5, beta1=0.5, disc_iters=5, bn=True, weight_clip=0.01),
    "lucic-wgan-gp": dict(loss="wgan", lr=1e-4, beta1=0.5, disc_iters=5, bn=False, gradient_penalty=10.0),
    # DRAGANHyperParams: discriminator_batchnorm True; DRAGAN.py penalises through it (penalty_through_batch_norm)
    "lucic-dragan": dict(loss="ns", lr=1e-4, beta1=0.5, disc_iters=1, bn=True, dragan=10.0),
}
#: abstract_gan.py resample_before_generator: False, overridden to True only in WGAN_GP.py.
RESAMPLES_BEFORE_G = {"lucic-wgan-gp"}
#: WGAN_GP.py and DRAGAN.py: slopes = tf.sqrt(0.0001 + tf.reduce_sum(tf.square(gradients), [1, 2, 3])).
SLOPES_EPS = {"lucic-wgan-gp": 1e-4, "lucic-dragan": 1e-4}


@pytest.mark.parametrize("name", sorted(COMPARE_GAN))
def test_hyperparameters_match_compare_gan(name):
    want, spec = COMPARE_GAN[name], load_baseline(name)
    assert spec.loss == want["loss"]
    for o in (spec.optim_g, spec.optim_d):
        assert (o.name, o.lr, o.betas) == ("adam", want["lr"], (want["beta1"], 0.999))
    assert spec.tricks.n_critic == want["disc_iters"]
    assert (spec.arch.d_norm == "batch") == want["bn"]
    for trick in ("weight_clip", "gradient_penalty", "dragan"):
        assert getattr(spec.tricks, trick) == want.get(trick, 0.0)
    assert spec.tricks.penalty_output == ("sigmoid" if name == "lucic-dragan" else "logit")
    assert (spec.batch_size, spec.arch.z_dim, spec.arch.z_dist) == (64, 64, "uniform")
    assert (spec.arch.name, spec.arch.variant, spec.arch.width) == ("dcgan", "infogan", 64)
    assert spec.arch.output == "sigmoid"  # abstract_gan.py generator: out = tf.nn.sigmoid(net)
    assert spec.tricks.g_latents == ("fresh" if name in RESAMPLES_BEFORE_G else "reuse")
    assert spec.tricks.grad_norm_eps == SLOPES_EPS.get(name, 0.0)
    assert spec.tricks.penalty_through_batch_norm == (name == "lucic-dragan")


def test_leaderboard_order_and_published_beside_ours():
    study = get_study("lucic2018")
    assert study.leaderboard_models() == ["lucic-mm", "lucic-ns", "lucic-lsgan", "lucic-wgan", "lucic-wgan-gp",
                                          "lucic-dragan"]
    assert study.published_for("fashion-mnist", "dcgan") is None
    rows = [{"model": m, "seed": s, "status": "ok", "fid": f, "num_samples": 10_000}
            for m, s, f in (("lucic-ns", 0, 37.0), ("lucic-ns", 1, 33.0), ("lucic-lsgan", 0, 25.0),
                            ("dcgan", 0, 50.0), ("real-data", 0, 2.5))]
    md = published_markdown(rows, study, "fashion-mnist")
    lines = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert lines == ["| NS GAN | 2 | 35.00 ± 2.83 (std) | 26.5 ± 1.6 |",  # std of 37, 33: 2 * sqrt(2)
                     "| LSGAN | 1 | 25.00 | 30.7 ± 2.2 |"]
    assert "table 2" in md
    assert published_markdown(rows, study, "cifar10") == ""  # no published figures for that dataset


def test_study_and_budget():
    study = get_study("lucic2018")
    assert set(study.models) == set(COMPARE_GAN)
    budget = get_budget(study.budget)
    # generate_tasks_lib.py TuneParams: training_steps = 20 * 50,000 // 64 D steps at batch 64
    assert budget.kimg * 1000 / 64 == 20 * 50_000 // 64
    assert (budget.num_samples, budget.ref_samples, budget.ref_split, budget.view) == (10_000, 10_000, "test", "native")
    # save_checkpoint_steps = 5 * 50,000 // 64 = 3,906 D steps (249.98 kimg), every checkpoint scored on the full
    # 10k (eval_gan_lib.py RunTaskEval): the curve at 250 kimg steps, at the protocol's N
    assert round(budget.eval_every_kimg * 1000 / 64) == 5 * 50_000 // 64
    assert budget.curve_samples == budget.num_samples
    assert study.published["fashion-mnist"]["lucic-ns"].value == 26.5


def test_leaderboard_seed_plan():
    """The study's plan: seed 0 for every loss (the default-setting rows; the search re-runs its choices with 3
    seeds), a per-model plan where a study gives one, overridable per model."""
    study = get_study("lucic2018")
    assert seed_plan(list(study.models), (0,), study.seeds) == [((0,), list(study.models))]
    plan = {"lucic-ns": (0, 1, 2)}
    assert seed_plan(["lucic-mm", "lucic-ns"], (0,), plan) == [((0,), ["lucic-mm"]), ((0, 1, 2), ["lucic-ns"])]
    # --seeds-for wins over the plan; models that share a seed set run together
    assert seed_plan(["lucic-ns", "lucic-mm"], (0,), plan, ["lucic-ns=0-1", "lucic-mm=1,0"]) == \
        [((0, 1), ["lucic-ns"]), ((1, 0), ["lucic-mm"])]
    assert seed_plan(["a", "b"], (3, 4)) == [((3, 4), ["a", "b"])]
    for bad in ("lucic-ns", "lucic-ns=", "=0", "lucic-ns=x", "lucic-ns=0,0", "lucic-xx=0"):
        with pytest.raises(BadInput, match="seeds"):
            seed_plan(["lucic-ns"], (0,), None, [bad])


def test_protocol_run_prints_the_papers_figures_beside_ours(tmp_path):
    """`ganbench run --protocol lucic2018` ends its table with ours beside the paper's (fake training and metrics)."""
    from ganbench.bench.runner import RunOptions, run
    from ganbench.config import ModelSpec
    from tests.fakes import Calls, fake_backend

    calls = Calls()
    res = run(models=[ModelSpec(name="lucic-ns"), ModelSpec(name="mine", batch_size=32)], study="lucic2018",
              metrics=("fid",), backend=fake_backend(calls), options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    assert {kimg for _, _, kimg in calls.train} == {250.0 * k for k in range(1, 5)}  # the protocol's budget
    ours = next(r["fid"] for r in res.rows if r["model"] == "lucic-ns")
    part = res.markdown.split("Beside the paper")[1]
    assert f"| NS GAN | 1 | {ours:.2f} | 26.5 ± 1.6 |" in part and "mine" not in part  # no figure: no line
    assert part in (tmp_path / "run" / "table.md").read_text()
