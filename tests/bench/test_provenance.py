"""What leaderboard headers read of the rows' provenance."""

from ganbench.bench.provenance import torch_threads


def _row(threads=None, train=True):
    prov = {"train": {"provenance": {"torch_threads": threads} if threads else {}}} if train else {}
    return {"model": "m", "provenance": prov}


def test_torch_threads_lists_what_the_trained_rows_recorded():
    assert torch_threads([_row(1), _row(1), _row(train=False)]) == "1"  # a real-data row trained nothing
    assert torch_threads([_row(2), _row(1)]) == "1/2"
    assert torch_threads([_row(), _row(train=False), {"model": "m", "provenance": None}]) == "not recorded"
