#!/usr/bin/env python
"""What a search's successive halving will spend, before it runs: kimg trained as a share of K x full length.

    python scripts/search_budget.py                       # the lucic2018 search: K=16, rungs 40/200/1000, eta 5
    python scripts/search_budget.py --trials 32 --noise 0.5 1.25

`ganbench search` prunes with Optuna's SuccessiveHalvingPruner, which is asynchronous (ASHA): a trial that reaches a
rung is judged at once against the trials that reached it before, so the first trials at each rung go on with little
to compare them to. This script runs that very pruner on simulated studies: each trial has a quality q ~ N(0, 1) and
scores q + noise * N(0, 1) at every rung (noise 1.25 and 0.5 give rung-to-rung correlations of 0.39 and 0.80, which
bracket the 0.46 and 0.66 measured in the lucic2018 search), reported in trial order (the order at every rung on any
number of workers when the trials train at one speed). It prints the share of K x full kimg spent (mean, 90th
percentile, how often it exceeds 1/eta) beside what synchronous successive halving spends (every trial scored at a
rung before the best floor(n/eta) go on), computed exactly.
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings

import numpy as np

from ganbench.bench.search.trial import step_of
from ganbench.config import get_budget
from ganbench.studies import get_study


def synchronous_share(trials: int, rungs: list[float], reduction: int) -> float:
    """kimg spent by synchronous successive halving (n trials at a rung, max(1, n // eta) go on), over K x full."""
    spent, n, done = 0.0, trials, 0.0
    for r in rungs:
        spent += n * (r - done)
        done, n = r, max(1, n // reduction)
    return spent / (trials * rungs[-1])


def simulated_scores(trials: int, rungs: int, noise: float, seed: int) -> np.ndarray:
    """``(trials, rungs)``: a quality q ~ N(0, 1) per trial plus ``noise`` * N(0, 1) at every rung."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(trials, 1)) + noise * rng.normal(size=(trials, rungs))


def asha_share(scores: np.ndarray, rungs: list[float], reduction: int) -> float:
    """kimg spent by Optuna's SuccessiveHalvingPruner on a study whose trial k scores ``scores[k, r]`` at rung r,
    over K x full. Trials report in trial order at every rung, as they do on any number of workers when every trial
    trains at the same speed."""
    import optuna

    trials = len(scores)
    pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=step_of(rungs[0]), reduction_factor=reduction)
    study = optuna.create_study(pruner=pruner)
    spent = 0.0
    for k in range(trials):
        t = study.ask()
        for r, kimg in enumerate(rungs):
            t.report(float(scores[k, r]), step_of(kimg))
            if r == len(rungs) - 1:
                study.tell(t, float(scores[k, r]))
            elif t.should_prune():
                study.tell(t, state=optuna.trial.TrialState.PRUNED)
            else:
                continue
            spent += kimg
            break
    return spent / (trials * rungs[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", default="lucic2018", help="a study whose search protocol gives the defaults")
    p.add_argument("--trials", type=int, help="K per model")
    p.add_argument("--reduction", type=int, help="eta")
    p.add_argument("--min-kimg", type=float, help="the first rung")
    p.add_argument("--kimg", type=float, help="a trial's full length")
    p.add_argument("--noise", type=float, nargs="+", default=[0.5, 1.25], help="rung-score noise (quality sd = 1)")
    p.add_argument("--studies", type=int, default=300, help="simulated studies per setting")
    args = p.parse_args(argv)
    study = get_study(args.protocol)
    sp = study.search
    kimg = args.kimg or sp.max_kimg or get_budget(study.budget).kimg
    given = {"trials": args.trials, "reduction": args.reduction, "min_kimg": args.min_kimg}
    sp = dataclasses.replace(sp, **{k: v for k, v in given.items() if v is not None})
    rungs = sp.rungs(kimg)
    print(f"K={sp.trials}, rungs {', '.join(f'{r:g}' for r in rungs)} kimg, eta {sp.reduction}: "
          f"synchronous halving spends {synchronous_share(sp.trials, rungs, sp.reduction):.3f} of K x {kimg:g} kimg")
    warnings.simplefilter("ignore")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    for noise in args.noise:
        s = np.array([asha_share(simulated_scores(sp.trials, len(rungs), noise, seed), rungs, sp.reduction)
                      for seed in range(args.studies)])
        print(f"ASHA (Optuna's SuccessiveHalvingPruner), rung noise {noise:g}: mean {s.mean():.3f}, "
              f"90th percentile {np.percentile(s, 90):.3f}, above 1/{sp.reduction} in "
              f"{np.mean(s > 1 / sp.reduction + 1e-9):.0%} of {args.studies} studies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
