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


def test_a_header_describes_the_machines_and_software_the_rows_record_not_the_one_writing_it():
    """Seen on 2026-12-04: rows trained on an H200 were headed by the 2-core CPU that wrote the table."""
    from ganbench.bench.provenance import made_on

    def row(device, torch_v, rev):
        return {"model": "m", "git_rev": rev, "provenance": {
            "versions": {"torch": torch_v, "torchvision": "0.26.0", "torch-fidelity": "0.4.0", "python": "3.12.3"},
            "train": {"provenance": {"device_name": device, "sessions": [{"device_name": device}]}}}}

    real = {"model": "real-data", "git_rev": "aaaa", "provenance": {"versions": {"torch": "2.11.0"}}}
    h200 = row("NVIDIA H200", "2.11.0", "7ff88e56fb1d4cb7")
    hw, sw = made_on([h200, h200, real])
    assert hw == "NVIDIA H200"
    assert sw.startswith("torch 2.11.0, torchvision 0.26.0, torch-fidelity 0.4.0, python 3.12.3 / torch 2.11.0, ")
    assert sw.endswith("ganbench git 7ff88e56fb1d, aaaa")
    hw, sw = made_on([row("NVIDIA H200", "2.11.0", "r1"), row("Intel Xeon", "2.14.1", "r2"), row("x", "2.14.1", "r3"),
                      row("x", "2.14.1", "r4")])
    assert hw == "NVIDIA H200 / Intel Xeon / x" and sw.endswith("4 revisions, each row records its own")
    restored = {"model": "m", "kimg": 1000.0, "provenance": {}}  # a row restored from a published table
    assert made_on([h200, restored, real])[0] == "NVIDIA H200 (not recorded for 1 of 2 trained rows)"
    hw, _ = made_on([{"model": "m", "provenance": None}])
    assert hw.startswith("not recorded by the rows (this machine: ")
