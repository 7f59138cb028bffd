"""The data-copying test C_T against casey-meehan/data-copying's ``data_copying_tests.py``: ``Zu`` against SciPy's
Mann-Whitney U with that file's Z-scoring, C_T's weighting against a transcription on fixed cells, and the test's
verdicts: training images handed back are flagged, fresh draws are not."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import mannwhitneyu

from ganbench.metrics import memorization
from ganbench.metrics.memorization import THRESHOLD, c_t, nearest_distance, z_u


def reference_zu(l_test: np.ndarray, l_gen: np.ndarray) -> float:
    """data_copying_tests.py ``Zu`` after its nearest-neighbour step: U of the generated distances, Z-scored."""
    n, m = len(l_test), len(l_gen)
    u, _ = mannwhitneyu(l_gen, l_test, alternative="less")
    return (u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12)


def test_zu_equals_scipys_u_with_the_reference_z_scoring():
    g = np.random.default_rng(0)
    l_test, l_gen = g.random(40), np.round(g.random(30) * 10) / 10  # ties included
    assert z_u(torch.from_numpy(l_test), torch.from_numpy(l_gen)) == pytest.approx(reference_zu(l_test, l_gen))


def test_ct_weights_the_cells_as_the_reference(monkeypatch):
    """With the cells fixed (the k-means step replaced), C_T is the Pn-weighted mean of the cells' Zu over the
    cells holding more than tau of the generated samples (data_copying_tests.py ``C_T``)."""
    g = np.random.default_rng(1)
    train, test, gen = g.normal(size=(300, 3)), g.normal(size=(120, 3)), g.normal(size=(90, 3)) * 0.8
    cell = lambda a: (a[:, 0] > 0).astype(int) + 2 * (a[:, 1] > 0).astype(int)  # noqa: E731  four quadrants
    monkeypatch.setattr(memorization, "kmeans", lambda x, k, seed=0: None)
    monkeypatch.setattr(memorization, "assign", lambda x, c: torch.from_numpy(cell(x.numpy())))
    tau = 20 / len(gen)
    num = den = 0.0
    for j in range(4):
        p, q, t = test[cell(test) == j], gen[cell(gen) == j], train[cell(train) == j]
        if len(q) / len(gen) <= tau:
            continue
        d = lambda a: np.sqrt(((a[:, None] - t[None]) ** 2).sum(-1)).min(1)  # noqa: E731
        num += len(p) / len(test) * reference_zu(d(p), d(q))
        den += len(p) / len(test)
    got = c_t(*(torch.from_numpy(a) for a in (train, test, gen)), cells=4)
    assert got == pytest.approx(num / den, rel=1e-9)


def test_a_copying_generator_is_flagged_and_fresh_draws_are_not():
    g = torch.Generator().manual_seed(0)
    train, test, fresh = (torch.randn(n, 6, generator=g) for n in (2000, 500, 500))
    copies = train[torch.randperm(2000, generator=g)[:500]]
    assert c_t(train, test, copies) < THRESHOLD  # handing back training images: far below
    assert abs(c_t(train, test, fresh)) < 3  # a draw from the same distribution: no evidence either way
    blurred = train[:500] + 0.02 * torch.randn(500, 6, generator=g)  # near-copies are flagged too
    assert c_t(train, test, blurred) < THRESHOLD


def test_nearest_distance():
    q, t = torch.tensor([[0.0, 0.0], [3.0, 4.0]]), torch.tensor([[0.0, 1.0], [3.0, 0.0]])
    assert nearest_distance(q, t).tolist() == [1.0, 4.0]


def test_training_images_given_as_float_arrays_are_read_in_their_value_range(tmp_path):
    """``evaluate(train=...)`` (``ganbench metrics --train --range``) reads float arrays in the range given, as the
    samples and the reference are read: the same images as uint8 or as floats in [0, 1] give the same C_T."""
    from ganbench.config import EvalProtocol
    from ganbench.metrics.evaluate import EvaluateOptions, evaluate

    g = torch.Generator().manual_seed(0)
    train = torch.randint(0, 256, (400, 1, 28, 28), generator=g, dtype=torch.uint8)
    test = torch.randint(0, 256, (200, 1, 28, 28), generator=g, dtype=torch.uint8)
    samples = train[:200]  # copies
    np.save(tmp_path / "train.npy", train.numpy().astype(np.float32) / 255.0)
    np.save(tmp_path / "train_u8.npy", train.numpy())
    kw = dict(metrics=("ct",), protocol=EvalProtocol(features="pixels"), progress=False)
    as_u8 = evaluate(samples, test, train=str(tmp_path / "train_u8.npy"), options=EvaluateOptions(cache=False), **kw)
    as_float = evaluate(samples, test, train=str(tmp_path / "train.npy"),
                        options=EvaluateOptions(cache=False, value_range=(0.0, 1.0)), **kw)
    assert as_u8["metrics"]["ct"] < THRESHOLD  # copies of the training images are flagged
    assert as_float["metrics"]["ct"] == pytest.approx(as_u8["metrics"]["ct"], rel=1e-9)
