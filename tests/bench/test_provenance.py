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
        "2 (not recorded, in whole or in part, for 2 of 3 trained rows)"
    assert torch_threads([restored]) == "not recorded"


def test_torch_threads_reads_every_session_of_a_resumed_run():
    def resumed(*sessions, last=2):
        return {"model": "m", "kimg": 1.0, "provenance": {"train": {"provenance": {
            "torch_threads": last, "sessions": [dict(s) for s in sessions]}}}}

    both = resumed({"torch_threads": 1, "from_step": 0}, {"torch_threads": 2, "from_step": 5})
    assert torch_threads([both]) == "1/2"
    old = resumed({"from_step": 0, "to_step": 5, "recorded": False}, {"torch_threads": 2, "from_step": 5})
    assert torch_threads([both, old]) == "1/2 (not recorded, in whole or in part, for 1 of 2 trained rows)"
