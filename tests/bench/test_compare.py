"""compare: an external sample set or generator ranked among stored baselines, and its bad inputs."""

import numpy as np

from ganbench.bench.tables import REAL_DATA

from ..helpers import tiny_budget
import pytest
import torch

from ganbench.bench.compare import CompareOptions, compare
from ganbench.bench.runner import RunOptions, run
from ganbench.config import Budget
from ganbench.errors import BadInput

from ..fakes import Calls, fake_backend

TINY = tiny_budget(real_row=True)


@pytest.fixture
def baselines(tmp_path):
    store = tmp_path / "r.sqlite"
    run(models=["dcgan", "wgan"], budget=TINY, metrics=("fid",), backend=fake_backend(Calls()),
        options=RunOptions(out=tmp_path / "run", store=store, progress=False))
    return store


def _compare(tmp_path, store, z_dim=None, value_range=None, **kw):
    return compare(kw.pop("name", "mygan"), budget=TINY, metrics=("fid",),
                   options=CompareOptions(store=store, progress=False, z_dim=z_dim, value_range=value_range),
                   backend=fake_backend(kw.pop("calls", Calls())), **kw)


def test_samples_file_ranked_in_place(tmp_path, baselines):
    # all-grey images: the fake FID is |mean(samples) - mean(reference)|, about 127.5 - 127.5 = small
    path = tmp_path / "s.npy"
    np.save(path, np.full((20, 28, 28, 1), 128, dtype=np.uint8))
    calls = Calls()
    res = _compare(tmp_path, baselines, samples=str(path), calls=calls)
    # two baselines, mygan, and the run's real-data row: the floor, shown last and never ranked
    assert len(res.leaderboard) == 4 and list(res.leaderboard.index)[res.rank - 1] == "mygan"
    assert res.leaderboard.index[-1] == REAL_DATA and "real data (floor)" in res.markdown
    fids = list(res.leaderboard["fid_mean"][:-1])
    assert fids == sorted(fids)  # ranked best (lowest FID) first
    assert calls.evaluate == [(("fid",), 16, "fashion-mnist/test/none")]  # compared at the native 28 px
    assert res.record["provenance"]["samples_transform"] == "none"
    assert f"mygan ranks {res.rank} of 3" in res.markdown and "| mygan" in res.markdown
    again = Calls()
    res2 = _compare(tmp_path, baselines, samples=str(path), calls=again)
    assert again.evaluate == [] and res2.rank == res.rank  # reused from the store


def test_against_a_leaderboard_csv(tmp_path, baselines):
    board = tmp_path / "run" / "table.csv"
    np.save(tmp_path / "s.npy", np.zeros((16, 1, 32, 32), dtype=np.uint8))
    res = _compare(tmp_path, tmp_path / "other.sqlite", samples=str(tmp_path / "s.npy"), against=str(board))
    assert set(res.leaderboard.index) == {"dcgan", "wgan", "mygan", REAL_DATA}
    other = Budget("other", kimg=1, num_samples=32, ref_samples=32)
    np.save(tmp_path / "s32.npy", np.zeros((32, 1, 32, 32), dtype=np.uint8))
    with pytest.raises(BadInput, match="made with num_samples=16"):
        compare("x", samples=str(tmp_path / "s32.npy"), budget=other, metrics=("fid",), against=str(board),
                options=CompareOptions(store=tmp_path / "o.sqlite", progress=False), backend=fake_backend(Calls()))


class TinyG(torch.nn.Module):
    z_dim = 8

    def __init__(self, scale=1.0):
        super().__init__()
        self.lin = torch.nn.Linear(8, 32 * 32)
        self.scale = scale

    def forward(self, z):
        return (torch.tanh(self.lin(z)) * self.scale).view(-1, 1, 32, 32)


def make_g():
    return TinyG()


def make_bad_g():
    return TinyG(scale=3.0)


def test_generator_with_checkpoint(tmp_path, baselines):
    ck = tmp_path / "g.pt"
    torch.save({"generator": TinyG().state_dict()}, ck)
    res = _compare(tmp_path, baselines, generator="tests.bench.test_compare:make_g", checkpoint=str(ck))
    assert res.record["status"] == "ok" and res.record["provenance"]["source"]["z_dim"] == 8


def test_generator_from_a_file(tmp_path, baselines):
    src = tmp_path / "mygen.py"
    src.write_text("import torch\n\ndef make():\n    return lambda z: torch.zeros(z.shape[0], 1, 28, 28)\n")
    res = _compare(tmp_path, baselines, generator=f"{src}:make", z_dim=4)
    assert res.record["status"] == "ok" and res.record["provenance"]["samples_transform"] == "none"
    # a generator at the nets' padded 32 px: the pad is undone (centre crop back to 28 px)
    src.write_text("import torch\n\ndef make():\n    return lambda z: torch.zeros(z.shape[0], 1, 32, 32)\n")
    res = _compare(tmp_path, baselines, name="g32", generator=f"{src}:make", z_dim=4)
    assert res.record["status"] == "ok" and res.record["provenance"]["samples_transform"] == "undo:pad28to32"
    src.write_text("import no_such_dependency_xyz\n")
    with pytest.raises(BadInput, match="cannot import .*No module named 'no_such_dependency_xyz'"):
        _compare(tmp_path, baselines, name="other", generator=f"{src}:make", z_dim=4)


@pytest.mark.parametrize("kw, message", [
    ({}, "exactly one of --samples"),
    ({"samples": "/nonexistent/x.npy"}, "no such file"),
    ({"generator": "no_such_module_xyz:make"}, "cannot import 'no_such_module_xyz'"),
    ({"generator": "nocolon"}, "MODULE:FACTORY"),
    ({"generator": "tests.bench.test_compare:missing"}, "no callable 'missing'"),
    ({"generator": "tests.bench.test_compare:make_bad_g"}, r"must lie in \[-1, 1\]"),
])
def test_bad_sources(tmp_path, baselines, kw, message):
    with pytest.raises(BadInput, match=message):
        _compare(tmp_path, baselines, **kw)


@pytest.mark.parametrize("array, rng, message", [
    (np.zeros((20, 3, 32, 32), np.uint8), None, "3 channel"),
    (np.zeros((20, 1, 64, 64), np.uint8), None, "samples are 64x64"),
    (np.zeros((5, 1, 32, 32), np.uint8), None, "holds 5 images"),
    (np.full((20, 1, 32, 32), 2.0, np.float32), (-1, 1), "outside the stated range"),
    (np.zeros((20, 1, 32, 32), np.float32), None, "need their range stated"),
])
def test_samples_of_wrong_shape_or_range(tmp_path, baselines, array, rng, message):
    path = tmp_path / "bad.npy"
    np.save(path, array)
    with pytest.raises(BadInput, match=message):
        _compare(tmp_path, baselines, samples=str(path), value_range=rng)


class TinyCondG(torch.nn.Module):
    """A conditional generator as a user writes one: (z, c) -> images, with z_dim and num_classes."""

    z_dim, num_classes = 8, 10

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(8 + 10, 28 * 28)

    def forward(self, z, c):
        x = torch.cat([z, torch.nn.functional.one_hot(c, 10).float()], 1)
        return torch.tanh(self.lin(x)).view(-1, 1, 28, 28)


def make_cond_g():
    return TinyCondG()


def test_conditional_generator_gets_class_metrics_with_its_labels(tmp_path, baselines):
    seen = []
    backend = fake_backend(Calls())
    real_evaluate = backend.evaluate

    def evaluate(samples, reference, **kw):
        seen.append((samples, kw["metrics"]))
        return real_evaluate(samples, reference, **kw)

    import dataclasses
    res = compare("cond", generator="tests.bench.test_compare:make_cond_g", budget=TINY,
                  options=CompareOptions(store=baselines, progress=False),
                  backend=dataclasses.replace(backend, evaluate=evaluate))
    (samples, metrics), = seen
    assert {"intra_fid", "cas"} <= set(metrics)  # a conditional generator: the class-aware metrics join in
    assert samples.num_classes == 10 and len(samples.labels(slice(None))) == 16
    assert res.record["status"] == "ok"
