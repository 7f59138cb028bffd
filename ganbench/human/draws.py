"""Each evaluator's images, drawn from a seeded random stream, so that a study can be replayed.

Session number ``ordinal`` of a study (0 for its first evaluator, in the order sessions were created) draws
everything from ``numpy.random.default_rng([seed, ordinal])`` (``seed``: the study's, ``HumanProtocol.seed``),
in this order: the model among those tied for the fewest evaluators (``candidates``, in the study's model order);
then the tutorial (half real, half the model's), the qualification (half real; the fakes shared out as evenly
as possible over every model of the study, the models that get one more drawn at random) and the study (half
real, half the model's). Each part picks its images without replacement from its pools (image ids sorted, so a
pool's order is its content's) and shuffles them. The session stores its seed, its ordinal and the draw's other
inputs (``draw``: candidates, models, sizes), so ``replay`` rebuilds its sequence from the store alone.
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

import numpy as np

from ..bench import human_store

#: How a session's stream is made, stored with it.
RNG = "numpy.random.default_rng([seed, ordinal])"

Pools = Mapping[tuple[str | None, str], Sequence[str]]  # (model or None for reals, role) -> sorted image ids


def qualification_shares(rng: np.random.Generator, fakes: int, models: Sequence[str]) -> dict[str, int]:
    """``fakes`` qualification fakes shared over ``models``: ``fakes // M`` each, one more for ``fakes % M`` of them
    (drawn without replacement)."""
    base, extra = divmod(fakes, len(models))
    more = set(int(i) for i in rng.choice(len(models), extra, replace=False)) if extra else set()
    return {m: base + (k in more) for k, m in enumerate(models)}


def _part(rng: np.random.Generator, picks: Sequence[tuple[Sequence[str], int]]) -> list[str]:
    """``k`` images from each pool without replacement, all shuffled together."""
    out = []
    for pool, k in picks:
        if k:
            out += [pool[int(i)] for i in rng.choice(len(pool), k, replace=False)]
    return [out[int(i)] for i in rng.permutation(len(out))]


def draw_session(seed: int, ordinal: int, candidates: Sequence[str], models: Sequence[str], pools: Pools,
                 tutorial: int, qualification: int, images: int) -> tuple[str, list[str]]:
    """The model and the image sequence (tutorial, then qualification, then study) of session ``ordinal``."""
    rng = np.random.default_rng([seed, ordinal])
    model = candidates[int(rng.integers(len(candidates)))]
    sequence = _part(rng, [(pools.get((None, "tutorial"), ()), tutorial // 2),
                           (pools.get((model, "tutorial"), ()), tutorial // 2)])
    shares = qualification_shares(rng, qualification // 2, models) if qualification else {}
    sequence += _part(rng, [(pools.get((None, "qualification"), ()), qualification // 2)]
                      + [(pools.get((m, "qualification"), ()), shares[m]) for m in models if shares])
    sequence += _part(rng, [(pools.get((None, "study"), ()), images // 2), (pools.get((model, "study"), ()), images // 2)])
    return model, sequence


def load_pools(con, study: str, models: Sequence[str]) -> dict[tuple[str | None, str], list[str]]:
    """The study's pools of these models and its real ones, from the store, ids sorted."""
    pools: dict[tuple[str | None, str], list[str]] = {}
    for r in human_store.pool_ids(con, study, models):
        pools.setdefault((r["model"], r["role"]), []).append(r["image_id"])
    return pools


def replay(con, evaluator: str) -> tuple[str, list[str]]:
    """Session ``evaluator``'s model and sequence drawn again from what the store holds (its seed, ordinal, draw
    inputs, the study's pools). Raises ``ValueError`` for a session stored without them (before issue 21)."""
    row = human_store.session(con, evaluator)
    if row is None:
        raise ValueError(f"no session {evaluator!r}")
    if row["ordinal"] is None or not row["draw"]:
        raise ValueError(f"session {evaluator} was drawn without a seed (an older ganbench); it cannot be replayed")
    d = json.loads(row["draw"])
    pools = load_pools(con, row["study"], sorted(set(d["candidates"]) | set(d["models"])))
    return draw_session(row["seed"], row["ordinal"], d["candidates"], d["models"], pools, row["tutorial"],
                        row["qualification"] or 0, d["images"])
