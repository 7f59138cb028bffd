"""Shared test setup: an isolated ganbench cache folder for every test."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Keep tests out of the user's cache (datasets, reference statistics) and out of each other's."""
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path / "ganbench-cache"))
    monkeypatch.delenv("GANBENCH_DATA", raising=False)
    monkeypatch.delenv("GANBENCH_INCEPTION_WEIGHTS", raising=False)


@pytest.fixture
def one_thread():
    """Tiny nets run faster on one torch thread, above all on shared, busy cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
