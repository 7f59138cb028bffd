"""``GANModel``'s step details pinned to google/compare_gan v1 (abstract_gan.py run_single_train_step): which latents
the G step sees, when WGAN's clipping applies (WGAN.py), and the warning of a penalty through D's batch norm."""

import dataclasses

import pytest
import torch

from ganbench.config import ArchSpec, ModelSpec, OptimSpec, TrickSpec
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel, PenaltyThroughBatchNorm

SMALL = ArchSpec(name="dcgan", variant="infogan", width=4, z_dim=8, z_dist="uniform", output="sigmoid")


def _latents_seen(spec: ModelSpec, steps: int = 1) -> list[torch.Tensor]:
    """The z of every G forward during ``steps`` training steps (D steps' fakes and G steps alike)."""
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0)
    seen: list[torch.Tensor] = []
    model.G.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach().clone()))
    real = torch.rand(spec.batch_size, 1, 28, 28)
    gen = torch.Generator().manual_seed(1)
    for _ in range(steps):
        model.train_step(lambda: (real, None), gen)
    return seen


@pytest.mark.parametrize("n_critic", [1, 5])
def test_g_step_reuses_the_last_d_steps_latents_as_compare_gan(n_critic):
    """run_single_train_step feeds the G update ``{self.z: batch_z}``, the batch_z of the D update just before it
    (it draws a new one only if resample_before_generator, which WGAN_GP.py alone sets)."""
    spec = ModelSpec(name="t", arch=SMALL, batch_size=8, tricks=TrickSpec(g_latents="reuse", n_critic=n_critic))
    seen = _latents_seen(spec)
    assert len(seen) == n_critic + 1  # one fake batch per D step, then the G step
    assert torch.equal(seen[-1], seen[-2])
    assert all(not torch.equal(seen[i], seen[i + 1]) for i in range(n_critic - 1))  # each D step draws anew
    fresh = _latents_seen(dataclasses.replace(spec, tricks=TrickSpec(n_critic=n_critic)))
    assert not torch.equal(fresh[-1], fresh[-2])
    assert torch.equal(fresh[0], seen[0])  # the draws before the G step are the same stream either way


def test_lucic_wgan_gp_resamples_and_the_others_reuse():
    assert load_baseline("lucic-wgan-gp").tricks.g_latents == "fresh"
    assert {load_baseline(n).tricks.g_latents for n in ("lucic-mm", "lucic-ns", "lucic-lsgan", "lucic-wgan",
                                                         "lucic-dragan")} == {"reuse"}


@pytest.mark.parametrize("order", ["after_step", "before_step"])
def test_weight_clip_at(order):
    """compare_gan v1's WGAN.py groups the Adam step with clip_D (``tf.group(d_optim, clip_D)``) without ordering
    them; TF runs the clip first, so each critic step adds its update to clip(w), and the weights G sees may exceed
    c by one step (scripts/check_compare_gan_tf.py). before_step does that; after_step clips the update
    (Arjovsky et al. 2017, alg. 1). Hand computation: Adam's first step moves each weight by lr * g / (|g| + eps)."""
    c, lr = 0.01, 0.05
    spec = ModelSpec(name="t", arch=dataclasses.replace(SMALL, d_norm="none"), loss="wgan", batch_size=8,
                     tricks=TrickSpec(weight_clip=c, weight_clip_at=order, n_critic=5),
                     optim_d=OptimSpec(lr=lr, betas=(0.5, 0.999)))
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0)
    with torch.no_grad():
        for p in model.D.parameters():
            p.mul_(100.0)  # most weights far outside [-c, c]
    start = [p.detach().clone() for p in model.D.parameters()]
    seen = []  # the largest |weight| D's forward ran with
    model.D.register_forward_pre_hook(
        lambda m, a: seen.append(max(float(p.detach().abs().max()) for p in m.parameters())))
    model.d_step(torch.rand(8, 1, 28, 28), torch.Generator().manual_seed(1))
    assert len(seen) == 1 and (seen[0] <= c) == (order == "before_step")
    for p, w0 in zip(model.D.parameters(), start):
        adam = lr * p.grad / (p.grad.abs() + 1e-8)
        want = w0.clamp(-c, c) - adam if order == "before_step" else (w0 - adam).clamp(-c, c)
        assert torch.allclose(p.detach(), want, rtol=1e-5, atol=1e-7)
    if order == "before_step":  # what G's step sees: up to one Adam step outside [-c, c]
        assert c < max(float(p.detach().abs().max()) for p in model.D.parameters()) <= c + lr


def test_weight_clip_at_is_checked_and_harmless_without_a_clip():
    """A spec derived from lucic-wgan without its clip (an ablation, a grid, a search space) keeps weight_clip_at,
    which then does nothing; an unknown value is refused."""
    from ganbench.errors import BadInput
    from ganbench.zoo.specs import validate_spec
    with pytest.raises(BadInput, match="after_step, before_step"):
        validate_spec(ModelSpec(name="t", arch=SMALL, tricks=TrickSpec(weight_clip=0.01, weight_clip_at="later")))
    spec = validate_spec(ModelSpec(name="t", arch=SMALL, tricks=TrickSpec(weight_clip_at="before_step")))
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0)
    before = [p.detach().clone() for p in model.D.parameters()]
    model.constrain()  # no constraint to apply
    assert all(torch.equal(a, p) for a, p in zip(before, model.D.parameters()))


def test_lucic_wgan_clips_before_the_step():
    assert load_baseline("lucic-wgan").tricks.weight_clip_at == "before_step"
    assert load_baseline("wgan").tricks.weight_clip_at == "after_step"


def test_a_penalty_through_batch_norm_trains_with_a_warning():
    """compare_gan's DRAGAN keeps batch norm in D under its penalty; ganbench allows it only when a spec says so."""
    spec = ModelSpec(name="t", arch=dataclasses.replace(SMALL, d_norm="batch"), batch_size=8,
                     tricks=TrickSpec(dragan=10.0, penalty_through_batch_norm=True))
    with pytest.warns(PenaltyThroughBatchNorm, match="batch norm"):
        model = GANModel(spec, (1, 28, 28), "cpu", seed=0)
    real = torch.rand(8, 1, 28, 28)
    logs = model.train_step(lambda: (real, None), torch.Generator().manual_seed(0))
    assert torch.isfinite(logs["dragan"]) and float(logs["dragan"]) > 0


def test_ganbench_warnings_show_on_one_line():
    """The CLI and each worker show ganbench's own warnings as one line; Python's format stays for the others."""
    import warnings

    from ganbench.errors import one_line_warnings

    saved = warnings.formatwarning
    try:
        one_line_warnings()
        fmt = warnings.formatwarning
        one_line_warnings()
        assert warnings.formatwarning is fmt  # once only: no wrapper around a wrapper
        assert fmt("t: dragan penalises", PenaltyThroughBatchNorm, "model.py", 48, "warnings.warn(") == \
            "ganbench: warning: t: dragan penalises\n"
        other = fmt("elsewhere", UserWarning, "lib.py", 7, "code()")
        assert other == saved("elsewhere", UserWarning, "lib.py", 7, "code()") and "lib.py:7" in other
    finally:
        warnings.formatwarning = saved


def test_lecam_bcr_and_ada_train_and_their_state_survives_a_checkpoint():
    spec = ModelSpec(name="t", arch=dataclasses.replace(SMALL, output="tanh"), loss="hinge", batch_size=8,
                     tricks=TrickSpec(lecam=0.3, bcr=10.0, ada_target=0.6, diffaugment="translation,cutout"))
    model = GANModel(spec, (1, 28, 28), "cpu", seed=0)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        logs = model.train_step(lambda: (real, None), gen)
    assert {"lecam", "bcr", "ada_p"} <= set(logs) and float(logs["bcr"]) > 0
    assert set(model.penalty_state["lecam"]) == {"ema_real", "ema_fake"}
    model.ada.p = 0.25
    other = GANModel(spec, (1, 28, 28), "cpu", seed=1)
    other.load_state_dict(model.state_dict())
    assert other.ada.p == 0.25
    assert torch.equal(other.penalty_state["lecam"]["ema_real"], model.penalty_state["lecam"]["ema_real"])


def test_ada_needs_diffaugment_ops():
    from ganbench.errors import BadInput
    from ganbench.zoo.specs import validate_spec
    with pytest.raises(BadInput, match="diffaugment"):
        validate_spec(ModelSpec(name="t", arch=SMALL, tricks=TrickSpec(ada_target=0.6)))
