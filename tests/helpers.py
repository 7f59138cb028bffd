"""What several test modules share: a tiny budget, the one-thread fixture for tiny nets, and job functions that
fail on purpose. Test modules import from here, never from each other."""

from __future__ import annotations

import importlib.util
import os
import signal
import sys
from pathlib import Path

import pytest

from ganbench.bench.jobs import Job
from ganbench.config import Budget, EvalProtocol, ModelSpec
from ganbench.errors import BadInput


def tiny_budget(name: str = "tiny", kimg: float = 0.128, samples: int = 16, **kw) -> Budget:
    """A budget a CPU test trains and evaluates in seconds: 128 images of training, ``samples`` images each side,
    no real-data row unless asked (``real_row=True``)."""
    kw.setdefault("real_row", False)
    return Budget(name, kimg=kimg, num_samples=samples, ref_samples=samples, **kw)


@pytest.fixture(autouse=True)
def tiny_nets_on_one_thread(one_thread):
    """Imported by a folder's conftest.py: every test there trains tiny nets (see ``one_thread`` in
    tests/conftest.py)."""


# ------------------------------------------------------------------ job functions for the executors' tests
def make_jobs(tmp_path, names, budget: Budget | None = None) -> list[Job]:
    """One job per name (the name says how ``flaky_job`` behaves), each in its own folder under ``tmp_path``."""
    budget = budget or tiny_budget()
    return [Job(ModelSpec(name=n), "fashion-mnist", 0, budget, EvalProtocol(), str(tmp_path / n)) for n in names]


def ganbench_file(job) -> dict:
    """Where the worker imported ganbench from, and the import settings it passes on."""
    import ganbench

    return {"file": ganbench.__file__, "env": [os.environ.get(k) for k in ("PYTHONPATH", "PYTHONSAFEPATH")]}


def attempt_no(job) -> int:
    """Count this attempt in a file in the job's folder; returns 1 for the first attempt."""
    folder = Path(job.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "attempts", "a") as f:
        f.write("x")
    return len((folder / "attempts").read_text())


def flaky_job(job):
    """ok: always works; flaky: raises on its first attempt; broken: always raises;
    dies-once: kills its own process on the first attempt; dies: always; exits: exits with status 3;
    user: a user error."""
    n = attempt_no(job)
    kind = job.spec.name
    if kind == "broken" or (kind == "flaky" and n == 1):
        raise RuntimeError(f"boom {n}")
    if kind == "dies" or (kind == "dies-once" and n == 1):
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "exits":
        os._exit(3)
    if kind == "user":
        raise BadInput("no such dataset")
    return {"model": kind, "attempt": n, "pid": os.getpid()}


def load_script(name: str):
    """scripts/NAME.py as a module (the scripts are not a package), registered in sys.modules, where dataclasses
    look their module up."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
