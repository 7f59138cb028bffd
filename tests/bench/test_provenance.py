"""What leaderboard headers read of the rows' provenance."""

from ganbench.bench.provenance import torch_threads


def _row(threads=None, train=True, **kw):
    prov = {"train": {"provenance": {"torch_threads": threads} if threads else {}}} if train else {}
    return {"model": "m", "provenance": prov, **kw}


def test_torch_threads_lists_what_the_trained_rows_recorded():
    assert torch_threads([_row(1), _row(1), _row(train=False)]) == "1"  # a real-data row trained nothing
    assert torch_threads([_row(2), _row(1)]) == "1/2"
    assert torch_threads([_row(), _row(train=False), {"model": "m", "provenance": None}]) == "not recorded"


def test_torch_threads_counts_the_trained_rows_that_do_not_say():
    restored = {"model": "m", "kimg": 1000.0, "provenance": {"restored": {"source": "x.csv"}}}
    assert torch_threads([_row(2), _row(), restored, _row(train=False)]) == \
        "2 (not recorded for 2 of 3 trained rows)"
    assert torch_threads([restored]) == "not recorded"
