"""A tiny, real ``ganbench run`` that can be killed (SIGKILL) at a chosen moment, for tests/bench/test_kill.py
and scripts/kill_run.py.

Everything is real except the feature network: a fixed random projection of 4x4-pooled pixels stands in for
Inception (so a run takes a fraction of a second). The run trains a shrunk DCGAN on 64 labelled images in three
2-step segments (a FID-vs-kimg point after each: resume, sampling and the eval log between segments), evaluates
16 samples, writes the real-data row, the store and the tables.

A kill point is ``(moment, n)``: the process kills itself with SIGKILL at the n-th time it reaches ``moment``:
``train_step`` (a training step), ``sample`` (G drawing samples: grids, curve, evaluation), ``features`` (a
feature batch), ``commit`` (an SQLite transaction, after its writes and before its COMMIT: results, claims),
or ``write:NAME`` (an atomic write of a file named NAME or ending in it, after the temporary file is written
and before it is renamed: ``write:table.md``, ``write:checkpoint.pt``, ``write:eval_log.csv``, ``write:.pt``
for a reference cache entry, ``write:samples.png``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import textwrap
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

#: What a forkserver imports once for these runs (torch._dynamo: Adam imports it, seconds on a busy CPU).
PRELOAD = ["torch", "torch._dynamo", "torch.utils.tensorboard", "ganbench.bench.runner", "ganbench.cli",
           "tests.bench.kill_driver"]
MOMENTS = ("train_step", "sample", "features", "commit", "write:table.md", "write:checkpoint.pt",
           "write:eval_log.csv", "write:.pt", "write:samples.png", "write:status.json")

SPEC = textwrap.dedent("""\
    name: tiny-dcgan
    description: DCGAN shrunk for the kill test
    arch: {name: dcgan, z_dim: 8, width: 4}
    loss: ns
    batch_size: 8
    """)


def make_inputs(folder: Path) -> dict[str, Path]:
    """The spec and the data (64 labelled 28x28 images) of the tiny run."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny-dcgan.yaml").write_text(SPEC)
    g = np.random.default_rng(0)
    np.savez(folder / "data.npz", images=g.integers(0, 256, (64, 1, 28, 28), dtype=np.uint8),
             labels=np.arange(64) % 10)
    return {"spec": folder / "tiny-dcgan.yaml", "data": folder / "data.npz"}


class FakeInception(torch.nn.Module):
    """Inception's interface (pool3, no head) over 32 fixed random projections of 4x4-pooled pixels."""

    def __init__(self, weights, resize_mode: str = "tf1"):
        super().__init__()
        self.weights, self.resize_mode, self.has_head = weights, resize_mode, False
        self.proj = torch.randn(3 * 16, 32, generator=torch.Generator().manual_seed(0))
        self.net = torch.nn.Identity()
        self.calls = 0

    def forward(self, images: torch.Tensor, logits: bool = True):
        _hit("features")
        x = torch.nn.functional.adaptive_avg_pool2d(images.float() / 255, 4).expand(-1, 3, -1, -1).flatten(1)
        return torch.tanh(x @ self.proj), None


def _fake_weights():
    from ganbench.metrics.weights import InceptionWeights

    return InceptionWeights({}, False, "0" * 64, "fake", "fake", "kill-test")


_COUNTS: Counter = Counter()
_KILL: tuple[str, int] | None = None


def _hit(moment: str) -> None:
    _COUNTS[moment] += 1
    if _KILL is not None and _KILL[0] == moment and _COUNTS[moment] == _KILL[1]:
        os.kill(os.getpid(), signal.SIGKILL)


class _Connection:
    """An sqlite3 connection whose COMMIT is a kill moment (after the transaction's writes)."""

    def __init__(self, con: sqlite3.Connection):
        self._con = con

    def execute(self, sql, *args):
        if sql == "COMMIT":
            _hit("commit")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def _patch() -> None:
    """Install the fake feature network and the kill moments (in this process only)."""
    import ganbench.bench.claims as claims
    import ganbench.bench.store as store
    import ganbench.images as images
    import ganbench.io as gio
    import ganbench.metrics.cache as cache
    import ganbench.metrics.inception as inception
    import ganbench.metrics.weights as weights
    import ganbench.train.checkpoint as checkpoint
    import ganbench.zoo.model as model
    import ganbench.zoo.sampler as sampler

    weights.resolve_weights = lambda *a, **k: _fake_weights()
    inception.build_inception = lambda w, mode="tf1", device="cpu": FakeInception(w, mode)

    connect = store._connect
    store._connect = claims._connect = lambda path: _Connection(connect(path))

    atomic = gio.atomic_path

    @contextlib.contextmanager
    def atomic_path(path):
        with atomic(path) as tmp:
            yield tmp
            name = Path(path).name
            for m in MOMENTS:
                if m.startswith("write:") and name.endswith(m[6:]):
                    _hit(m)
    for mod in (gio, images, cache, checkpoint):
        mod.atomic_path = atomic_path

    step = model.GANModel.train_step

    def train_step(self, *a, **k):
        _hit("train_step")
        return step(self, *a, **k)
    model.GANModel.train_step = train_step

    generate = sampler.generate

    def counted_generate(*a, **k):
        _hit("sample")
        return generate(*a, **k)
    sampler.generate = counted_generate


def argv(root: Path, inputs: dict[str, Path]) -> list[str]:
    """The run: the tiny spec on the 64 images, the `kill` budget (registered by ``run_tiny``)."""
    return ["run", "--models", str(inputs["spec"]), "--dataset", f"arrays:{inputs['data']}", "--budget", "kill",
            "--metrics", "fid,kid,pr", "--out", str(root / "run"), "--store", str(root / "store" / "r.sqlite"),
            "--device", "cpu", "--quiet"]


def run_tiny(root: str, inputs: dict, kill: tuple[str, int] | None = None) -> int:
    """The tiny run in this process (a forked child), its cache in ``root``/cache; kills itself at ``kill``."""
    global _KILL
    os.environ["GANBENCH_CACHE"] = str(Path(root) / "cache")
    torch.set_num_threads(1)
    from ganbench import config
    from ganbench.cli import main

    config.BUDGETS["kill"] = config.Budget("kill", kimg=0.048, num_samples=16, ref_samples=16, eval_every_kimg=0.016,
                                           curve_samples=16, view="native", description="kill test")
    _patch()
    _KILL = kill
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null):
        return main(argv(Path(root), {k: Path(v) for k, v in inputs.items()}))


def fork_run(root: Path, inputs: dict, kill: tuple[str, int] | None = None,
             after_s: float | None = None) -> tuple[int, dict | None]:
    """The tiny run in a forked child: ``(exit status, -9 when killed; how often it reached each moment)``.
    ``kill``: the child kills itself at that moment; ``after_s``: this process kills it after so many seconds.
    Fork only from a process that has imported torch but run nothing with it (see ``scenarios``)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        status = 1
        try:
            status = run_tiny(str(root), {k: str(v) for k, v in inputs.items()}, kill)
            os.write(w, json.dumps(dict(_COUNTS)).encode())
        finally:
            os._exit(status)
    os.close(w)
    if after_s is not None:
        time.sleep(after_s)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), (json.loads(data) if data else None)


def scenarios(tmp: str, seed: int = 14, timed: int = 0) -> dict:
    """The whole kill test in this process: one uninterrupted run, then one kill at a random call of each moment
    (and ``timed`` kills at random wall-clock times), each followed by a re-run in a fresh folder. Returns the
    uninterrupted rows and, per kill, its status, the re-run's status, rows and leftover temporary files."""
    import random

    tmp = Path(tmp)
    inputs = make_inputs(tmp / "inputs")
    t0 = time.perf_counter()
    status, counts = fork_run(tmp / "whole", inputs)
    took = time.perf_counter() - t0
    report = {"status": status, "counts": counts, "rows": rows(tmp / "whole"), "seconds": took, "kills": []}
    rng = random.Random(seed)
    kills = [((m, rng.randint(1, counts[m])), None) for m in MOMENTS if (counts or {}).get(m)]
    kills += [(None, rng.uniform(0.05, took)) for _ in range(timed)]
    for i, (kill, after_s) in enumerate(kills):
        root = tmp / f"kill{i}"
        killed, _ = fork_run(root, inputs, kill, after_s)
        again, _ = fork_run(root, inputs)
        report["kills"].append({"kill": kill or f"after {after_s:.2f} s", "killed": killed, "rerun": again,
                                "rows": rows(root), "leftovers": leftovers(root)})
    return report


def report_to(conn, tmp: str, seed: int = 14, timed: int = 0) -> None:
    """multiprocessing target (a spawned, clean process): import what runs need, then ``scenarios``."""
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    conn.send(scenarios(tmp, seed, timed))
    conn.close()


def rows(root: Path) -> list[dict]:
    """The stored rows, reduced to what must not depend on an interruption (numbers, not times)."""
    from ganbench.bench.store import Store

    keep = ("job_key", "model", "seed", "status", "steps", "kimg", "num_samples", "ref_samples", "metrics")
    out = []
    for r in Store(root / "store" / "r.sqlite").query():
        row = {k: r[k] for k in keep}
        points = (r["provenance"].get("curve") or {}).get("points")
        row["curve"] = [{k: v for k, v in p.items() if k != "eval_s"} for p in points] if points else points
        out.append(row)
    return out


def leftovers(root: Path) -> list[str]:
    """Temporary files (ours, SQLite's journals) anywhere under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.name.endswith(".tmp") or p.name.endswith("-journal"))
