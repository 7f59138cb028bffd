"""Leave-one-out ablations (``run --ablate``): the base, then the base with one change each, tested against the base."""

import dataclasses
import math

import pytest

from ganbench.bench.ablation import expand_ablation, parse_ablation
from ganbench.bench.runner import RunOptions, run
from ganbench.bench.stats import welch
from ganbench.bench.tables import comparative_markdown
from ganbench.config import ModelSpec, TrickSpec, ArchSpec
from ganbench.errors import BadInput

from ..fakes import Calls, fake_backend
from ..helpers import tiny_budget

#: The modern recipe on the DCGAN nets (runs/modern-pilot's spec): SN in D, hinge, a G EMA, DiffAugment.
MODERN = ModelSpec(name="modern", arch=ArchSpec(name="dcgan", z_dim=128, width=64, d_norm="none"), loss="hinge",
                   tricks=TrickSpec(spectral_norm_d=True, ema=0.999, diffaugment="color,translation,cutout"))


def _by_label(items):
    return {g["ablation"]: s for s, g in expand_ablation(MODERN, parse_ablation(items))}


def test_each_change_is_one_row_beside_the_base():
    v = _by_label(["ema", "diffaug", "no SN:sn+arch.d_norm=batch", "loss=ns", "trick=lecam"])
    assert list(v) == ["base", "without ema", "without diffaug", "no SN", "loss=ns", "trick=lecam"]
    assert v["base"].hash() == MODERN.hash() and v["base"].name == "modern"
    # each row differs from the base in exactly what its item says, and nothing else
    assert v["without ema"] == dataclasses.replace(MODERN, name="without ema", description=v["without ema"].description,
                                                   tricks=dataclasses.replace(MODERN.tricks, ema=0.0))
    assert v["without diffaug"].tricks.diffaugment == "" and v["without diffaug"].tricks.ema == 0.999
    assert not v["no SN"].tricks.spectral_norm_d and v["no SN"].arch.d_norm == "batch"
    assert v["loss=ns"].loss == "ns" and v["loss=ns"].tricks == MODERN.tricks
    assert v["trick=lecam"].tricks.lecam == 0.3 and v["trick=lecam"].tricks.ema == 0.999
    assert len({s.hash() for s in v.values()}) == 6


def test_a_row_trained_under_another_name_is_the_same_job():
    """A result is keyed by what is trained: the spec a user wrote by hand as 'no-ema.yaml' is the ablation's row."""
    by_hand = dataclasses.replace(MODERN, name="no-ema", tricks=dataclasses.replace(MODERN.tricks, ema=0.0))
    assert _by_label(["ema"])["without ema"].hash() == by_hand.hash()
    assert _by_label(["tricks.ema=0"])["tricks.ema=0"].hash() == by_hand.hash()


@pytest.mark.parametrize("items, message", [
    (["lecam"], "the base modern has no lecam to remove"),
    (["magic"], "'magic' is not a trick to remove"),
    (["none"], "'none' is not a trick to remove"),
    (["ema", "tricks.ema=0"], "are the same configuration"),
    (["base:loss=ns"], "reserved"),
    (["x:loss=ns", "x:ema"], "given twice"),
    (["ema+"], "one value per change"),
    ([], "at least one change"),
    (["loss=nope"], "unknown loss 'nope'"),
    (["loss=wgan-clip"], "ablation loss=wgan-clip is impossible"),
    (["tricks.bogus=1"], "not a field"),
])
def test_bad_ablations_fail_before_training(items, message):
    with pytest.raises(BadInput, match=message):
        expand_ablation(MODERN, parse_ablation(items))


def _row(label, seed, fid):
    return {"model": label, "seed": seed, "status": "ok", "fid": fid, "num_samples": 1000, "ref_samples": 1000,
            "dataset": "fashion-mnist", "split": "test", "budget": "quick", "groups": {"ablation": label},
            "provenance": {}}


def test_the_table_tests_each_change_against_the_base_by_hand():
    rows = [_row("base", 0, 10.0), _row("base", 1, 12.0), _row("without ema", 0, 20.0), _row("without ema", 1, 22.0),
            _row("loss=ns", 0, 9.0)]
    md = comparative_markdown(rows, axes=["ablation"])
    table = md.split("Ablation:")[1]
    lines = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
    # Welch by hand: diff 10, s^2 = 2 in each, se = sqrt(2/2 + 2/2), t = 10/sqrt(2), df = 2 (Welch-Satterthwaite);
    # Student's t with 2 df has cdf 1/2 + t / (2 sqrt(2 + t^2)), so p = 1 - t / sqrt(2 + t^2).
    t = 10 / math.sqrt(2)
    p = 1 - t / math.sqrt(2 + t * t)
    assert f"+10.00 (p={p:.2g}, significant)" in lines["without ema"]
    assert "-2.00 (no test: <2 seeds)" in lines["loss=ns"]
    assert lines["base"].rstrip(" |").endswith("–")
    assert "FID − base (Welch)" in table


def test_the_ablation_column_adjusts_its_family_of_tests_by_holm():
    # Two changes tested against the base: each Welch p is doubled (Holm, m = 2, then the running maximum), and
    # the verdict is the adjusted one. "without ema" (diff 10, t = 10/sqrt(2), df 2: p = 0.0198) stays
    # significant at 0.0396; "without sn" (diff 4, t = 4/sqrt(2), df 2: p = 0.114) is n.s. at 0.114 either way.
    rows = [_row("base", 0, 10.0), _row("base", 1, 12.0), _row("without ema", 0, 20.0), _row("without ema", 1, 22.0),
            _row("without sn", 0, 14.0), _row("without sn", 1, 16.0)]
    md = comparative_markdown(rows, axes=["ablation"])
    lines = {line.split("|")[1].strip(): line for line in md.split("Ablation:")[1].splitlines() if line.startswith("| ")}
    p = {d: 1 - (d / math.sqrt(2)) / math.sqrt(2 + d * d / 2) for d in (10, 4)}
    assert 2 * p[10] < 0.05 < p[4]
    assert f"+10.00 (p={p[10]:.2g}, Holm {2 * p[10]:.2g}, significant)" in lines["without ema"]
    assert f"+4.00 (p={p[4]:.2g}, Holm {max(2 * p[10], p[4]):.2g}, n.s.)" in lines["without sn"]
    # three rows at p = 0.04 (t = 3, df 4) alone would each pass; as a family of three (Holm 0.12) none does
    rows = [_row("base", s, v) for s, v in enumerate((10.0, 11.0, 12.0))]
    for label in ("a", "b", "c"):
        rows += [_row(label, s, v) for s, v in enumerate((12.45, 13.45, 14.45))]
    lines = {line.split("|")[1].strip(): line for line in comparative_markdown(rows, axes=["ablation"])
             .split("Ablation:")[1].splitlines() if line.startswith("| ")}
    raw = welch([12.45, 13.45, 14.45], [10.0, 11.0, 12.0]).p
    assert raw < 0.05 < 3 * raw
    assert all(f"(p={raw:.2g}, Holm {min(1, 3 * raw):.2g}, n.s.)" in lines[x] for x in "abc")


def test_run_ablate_end_to_end_reuses_a_row_stored_under_another_name(tmp_path):
    calls = Calls()
    backend = fake_backend(calls)
    budget = tiny_budget()
    opts = RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False)
    hinge = ModelSpec(name="my-hinge", loss="hinge")  # trained first, by hand, under its own name
    run(models=[hinge], budget=budget, metrics=("fid",), backend=backend, options=opts)
    assert [c[0] for c in calls.train] == ["my-hinge"]
    res = run(base="dcgan", ablate=["loss=hinge", "trick=sn"], budget=budget, metrics=("fid",), backend=backend,
              options=opts)
    assert [c[0] for c in calls.train] == ["my-hinge", "dcgan", "trick=sn"]  # the hinge row is reused
    assert res.skipped == 1
    assert [(r["model"], r["groups"]) for r in res.rows] == [
        ("dcgan", {"ablation": "base"}), ("loss=hinge", {"ablation": "loss=hinge"}),
        ("trick=sn", {"ablation": "trick=sn"})]
    assert "Ablation:" in res.markdown and "| loss=hinge" in res.markdown and "my-hinge" not in res.markdown
    assert (tmp_path / "run" / "table.html").read_text().count("Ablation:") == 1


@pytest.mark.parametrize("kw, message", [
    ({"grid": ["loss=ns"], "ablate": ["loss=hinge"]}, "either --grid .* or --ablate"),
    ({"models": ["wgan"], "ablate": ["loss=hinge"]}, "either --models or --ablate"),
    ({"ablate": ["ema"]}, "the base dcgan has no ema to remove"),
])
def test_bad_ablate_runs_write_nothing(tmp_path, kw, message):
    calls = Calls()
    with pytest.raises(BadInput, match=message):
        run(budget=tiny_budget(), backend=fake_backend(calls), **kw,
            options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    assert not calls.train and not any(tmp_path.iterdir())
