"""Shared test setup: an isolated ganbench cache folder for every test."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """Keep tests out of the user's cache (datasets, reference statistics) and out of each other's."""
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path / "ganbench-cache"))
    monkeypatch.delenv("GANBENCH_DATA", raising=False)
    monkeypatch.delenv("GANBENCH_INCEPTION_WEIGHTS", raising=False)
