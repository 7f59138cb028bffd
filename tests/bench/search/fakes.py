"""A deterministic fake backend for search tests: real orchestration (Optuna, store, claims, executors), stand-ins
for training and metrics whose scores depend only on the trial's spec and training length, in any process."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import torch

from ganbench.bench.search import SearchOptions
from ganbench.config import Budget
from ganbench.studies import SearchProtocol

from tests.fakes import Calls, fake_backend

BUDGET = Budget("tiny", kimg=0.256, num_samples=16, ref_samples=16, real_row=False)
SPACE = """\
params:
  learning_rate: {log_uniform: [1.0e-5, 1.0e-2], set: [optim_g.lr, optim_d.lr]}
  disc_iters: {choice: [1, 2], set: [tricks.n_critic]}
"""


def protocol(tmp_path: Path, **kw) -> SearchProtocol:
    space = tmp_path / "space.yaml"
    space.parent.mkdir(parents=True, exist_ok=True)
    space.write_text(SPACE)
    args = dict(space=str(space), trials=6, min_kimg=0.064, reduction=2, rung_samples=16, validation=10,
                rerun_seeds=(1, 2))
    return SearchProtocol(**{**args, **kw})


def options(tmp_path: Path, name: str = "run", **kw) -> SearchOptions:
    return SearchOptions(**{"out": str(tmp_path / name), "store": str(tmp_path / "r.sqlite"), "progress": False, **kw})


def backend(calls: Calls, kill_at_train: int | None = None):
    """``fake_backend`` with scores that depend only on the checkpoint (spec hash, seed, kimg), in any process;
    ``kill_at_train``: SIGKILL this process when it reaches that train call."""
    import dataclasses

    from ganbench.zoo.sampler import Samples

    b = fake_backend(calls)
    train = b.train

    def train_or_die(spec, dataset, out_dir, **kw):
        if kill_at_train is not None and len(calls.train) + 1 >= kill_at_train:
            os.kill(os.getpid(), signal.SIGKILL)
        return train(spec, dataset, out_dir, **kw)

    def sample(G, n, seed, device=None, **kw):
        value = int.from_bytes(hashlib.sha256(f"{G} {seed}".encode()).digest()[:2], "big") % 256
        return Samples(torch.full((n, 1, 32, 32), value, dtype=torch.uint8), None)

    return dataclasses.replace(b, train=train_or_die, sample=sample)
