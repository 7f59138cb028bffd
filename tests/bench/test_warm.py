"""``ganbench cache warm`` (``bench/warm.py``) names every
reference set a study evaluates against, and a job's evaluation then finds it in the cache."""


import pytest
import torch

from ganbench.bench import warm as warm_module
from ganbench.bench.jobs import protocol_for
from ganbench.bench.search.driver import trial_budget
from ganbench.cli import main
from ganbench.config import Budget, get_budget
from ganbench.errors import BadInput
from ganbench.studies import get_study


def test_warm_names_the_final_curve_and_search_references_of_a_study(monkeypatch):
    seen = []
    monkeypatch.setattr(warm_module, "prepare_reference", lambda jobs, b, progress=True: seen.extend(jobs) or {})
    assert warm_module.warm("lucic2018", progress=False) == []
    final = get_budget("lucic2018")
    st = get_study("lucic2018")
    tb = trial_budget(final, st.search, 60000)
    got = [(j.dataset, j.protocol.ref_split, j.protocol.ref_samples, j.protocol.num_samples, j.protocol.metrics)
           for j in seen]
    assert got == [
        ("fashion-mnist", "test", 10000, 10000, protocol_for(final).metrics),  # the last and best checkpoints
        ("fashion-mnist", "test", 10000, 10000, ("fid",)),  # every 250 kimg, at the full N under lucic2018
        ("fashion-mnist", "train[50000:]", 10000, 2000, ("fid",)),  # the trials' rungs, on the held-out split
    ]
    assert seen[2].protocol == protocol_for(tb, (st.search.rung_metric,))
    with pytest.raises(BadInput, match="fixes the budget"):
        warm_module.warm("lucic2018", budget="quick")


def test_a_warmed_reference_is_the_one_an_evaluation_finds(tmp_path):
    """Real Inception on 4 images: warm caches them under the key that evaluate() then looks up."""
    from ganbench.metrics.evaluate import evaluate

    tiny = Budget("tiny", kimg=0.1, num_samples=4, ref_samples=4, real_row=False)
    done = warm_module.warm(budget=tiny, device="cpu", progress=False)
    assert [(e["split"], e["n"], e["was_cached"]) for e in done] == [("test", 4, False)]
    samples = torch.randint(0, 256, (4, 1, 28, 28), dtype=torch.uint8)
    ev = evaluate(samples, "fashion-mnist:test", metrics=("fid",), protocol=protocol_for(tiny), device="cpu",
                  progress=False)
    assert ev["provenance"]["reference"]["cache_hit"] is True
    assert ev["provenance"]["reference"]["cache_key"] == done[0]["key"]
    assert warm_module.warm(budget=tiny, device="cpu", progress=False)[0]["was_cached"] is True


def test_the_cache_command_refuses_warm_options_on_list(capsys):
    assert main(["cache", "list", "--protocol", "lucic2018"]) == 2
    assert "go with `ganbench cache warm`" in capsys.readouterr().err
