"""Search spaces as data, pinned to google/compare_gan v1 src/params.py (GetDefaultWideRange,
GetDefaultNarrowRange and each loss's *HyperParams function)."""

import math

import pytest

from ganbench.bench.search.space import load_space
from ganbench.errors import BadInput
from ganbench.zoo.baselines import load_baseline

# params.py, range_type "wide": (range, is_log_scale) as ParamRanges.AddRange declares them; log ranges are
# exponents of 10. Shared: GetDefaultWideRange; per loss: the weight_clipping / lambda AddRange calls.
WIDE = {"beta1": ([0.0, 1.0], False), "learning_rate": ([-5.0, -2.0], True), "disc_iters": ([1, 5], "discrete"),
        "discriminator_batchnorm": ([True, False], "discrete")}
WIDE_LOSS = {"lucic-wgan": {"weight_clipping": ([-3.0, 0.0], True)},
             "lucic-wgan-gp": {"lambda": ([-1.0, 2.0], True)}, "lucic-dragan": {"lambda": ([-1.0, 2.0], True)}}
NARROW = {"beta1": ([0.5], "discrete"), "learning_rate": ([-4.0, -3.0], True), "disc_iters": ([1], "discrete"),
          "discriminator_batchnorm": ([True, False], "discrete")}
NARROW_LOSS = {"lucic-wgan": {"weight_clipping": ([-2.0, 0.0], True)},
               "lucic-wgan-gp": {"lambda": ([-1.0, 1.0], True), "discriminator_batchnorm": ([False], "discrete")},
               "lucic-dragan": {"lambda": ([-1.0, 1.0], True), "discriminator_batchnorm": ([False], "discrete")}}
BN = {True: "batch", False: "none"}
TARGET = {"learning_rate": ("optim_g.lr", "optim_d.lr"), "beta1": ("optim_g.betas.0", "optim_d.betas.0"),
          "disc_iters": ("tricks.n_critic",), "discriminator_batchnorm": ("arch.d_norm",),
          "weight_clipping": ("tricks.weight_clip",)}
LAMBDA = {"lucic-wgan-gp": ("tricks.gradient_penalty",), "lucic-dragan": ("tricks.dragan",)}
MODELS = ("lucic-mm", "lucic-ns", "lucic-lsgan", "lucic-wgan", "lucic-wgan-gp", "lucic-dragan")


@pytest.mark.parametrize("name,shared,per_loss", [("lucic2018-wide", WIDE, WIDE_LOSS),
                                                    ("lucic2018-narrow", NARROW, NARROW_LOSS)])
@pytest.mark.parametrize("model", MODELS)
def test_lucic_spaces_are_compare_gans_params(name, shared, per_loss, model):
    space = load_space(name).for_model(model)
    want = {**shared, **per_loss.get(model, {})}
    assert set(space) == set(want)
    for pname, (rng, scale) in want.items():
        p = space[pname]
        assert p.targets == (LAMBDA[model] if pname == "lambda" else TARGET[pname])
        if scale == "discrete":
            assert p.kind == "choice"
            assert list(p.values) == [BN[v] for v in rng] if pname == "discriminator_batchnorm" else list(p.values) == rng
        elif scale:  # log scale: the range is of exponents, drawn as 10^U[a, b]
            assert p.kind == "log_uniform" and p.values == pytest.approx(tuple(10 ** e for e in rng))
        else:
            assert p.kind == "uniform" and p.values == tuple(rng)


def test_trial_zero_is_the_models_own_setting_and_values_reach_the_spec():
    space = load_space("lucic2018-wide")
    spec = load_baseline("lucic-wgan-gp")
    defaults = space.defaults(spec)
    assert defaults == {"learning_rate": 1e-4, "beta1": 0.5, "disc_iters": 5, "discriminator_batchnorm": "none",
                        "lambda": 10.0}
    assert space.apply(spec, defaults, "lucic-wgan-gp").hash() == spec.hash()  # the very same training config
    drawn = space.apply(spec, {"learning_rate": 3e-3, "beta1": 0.25, "disc_iters": 1,
                               "discriminator_batchnorm": "batch", "lambda": 0.5}, "t1")
    assert (drawn.optim_g.lr, drawn.optim_d.lr, drawn.optim_g.betas, drawn.optim_d.betas) == \
        (3e-3, 3e-3, (0.25, 0.999), (0.25, 0.999))
    assert (drawn.tricks.n_critic, drawn.arch.d_norm, drawn.tricks.gradient_penalty) == (1, "batch", 0.5)
    # the trial's description names its drawn values (the base's describes compare_gan's default setting)
    assert drawn.description == ("lucic-wgan-gp at values from the lucic2018-wide search space (beta1 0.25, "
                                 "disc_iters 1, discriminator_batchnorm batch, lambda 0.5, learning_rate 0.003); "
                                 f"lucic-wgan-gp itself: {spec.description}")
    # a value the space does not search for this model (WGAN's clip) is not written, so the description omits it
    extra = space.apply(spec, {**defaults, "weight_clipping": 0.05}, "t2")
    assert extra.hash() == spec.hash() and "weight_clipping" not in extra.description
    # the wide range draws BN in D under a penalty, as compare_gan trains it: allowed for such a trial
    assert drawn.tricks.penalty_through_batch_norm and not space.apply(spec, defaults, "x").tricks.penalty_through_batch_norm
    assert math.isclose(space.for_model("lucic-ns")["learning_rate"].values[0], 1e-5)


@pytest.mark.parametrize("text,match", [
    ("params: {lr: {log_uniform: [0, 1], set: [optim_g.lr]}}", "low > 0"),
    ("params: {lr: {uniform: [1, 0], set: [optim_g.lr]}}", "low < high"),
    ("params: {lr: {uniform: [0, 1], set: [optim_g.learning_rate]}}", "not a field"),
    ("params: {lr: {uniform: [0, 1]}}", "set:"),
    ("params: {lr: {normal: [0, 1], set: [optim_g.lr]}}", "exactly one of"),
    ("params: {}", "no parameter"),
    ("prams: {}", "unknown key"),
    ("- 1", "mapping"),
])
def test_bad_spaces_are_one_line_errors(tmp_path, text, match):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(BadInput, match=match):
        load_space(path)
    with pytest.raises(BadInput, match="unknown search space"):
        load_space("no-such-space")
