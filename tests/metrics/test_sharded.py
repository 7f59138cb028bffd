"""``evaluate`` under a torch.distributed group (2 gloo processes) equals single-process ``evaluate``.

Samples: 6 images of a tiny random mlp G (shards 3 + 3) and 7 reference images (4 + 3),
real Inception weights. The single-process side is ``metrics.evaluate`` with the cache off, so
it extracts its own features. Tolerance: features of one image do not depend on the rank that
computed them up to float32 rounding; FID/KID/PR to 1e-4 relative.
"""

import json

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ganbench.config import ArchSpec, EvalProtocol
from ganbench.data import array_image_set, get_dataset
from ganbench.metrics.evaluate import EvaluateOptions, evaluate
from ganbench.metrics.sources import GeneratorSource
from ganbench.zoo.nets import build_nets
from ganbench.zoo.sampler import sample, sample_images

N, RN = 6, 7
PROTOCOL = EvalProtocol(num_samples=N, ref_samples=RN, kid_subset_size=3, kid_subsets=10, feature_batch_size=4)
METRICS = ("fid", "kid", "pr")


def generator():
    G, _ = build_nets(ArchSpec(name="mlp", z_dim=8, width=4), (1, 28, 28), seed=0)
    return G.eval()


def reference():
    return array_image_set(get_dataset("fashion-mnist", "test").uint8(slice(0, RN)).numpy(), "ref7")


def worker(rank: int, world: int, root: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{root}/store", rank=rank, world_size=world)
    try:
        res = evaluate(GeneratorSource(generator(), N, seed=0), reference(), metrics=METRICS, protocol=PROTOCOL,
                       device="cpu", progress=False)
        with open(f"{root}/rank{rank}.json", "w") as f:
            json.dump(res, f, default=str)
    finally:
        dist.destroy_process_group()


def test_sharded_equals_single_process(tmp_path, helper_path):
    mp.spawn(worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["metrics"] == r1["metrics"]  # every rank holds the same numbers
    assert r0["provenance"]["world_size"] == 2 and not r0["provenance"]["reference"]["cache_hit"]
    from ganbench.metrics.inception import build_inception
    from ganbench.metrics.weights import resolve_weights

    net = build_inception(resolve_weights(None), PROTOCOL.resize_mode, torch.device("cpu"))
    single = evaluate(sample_images(generator(), N, 0), reference(), metrics=METRICS, protocol=PROTOCOL,
                      device="cpu", progress=False, options=EvaluateOptions(cache=False, model=net))
    assert set(single["metrics"]) == set(r0["metrics"])
    for k, v in single["metrics"].items():
        assert r0["metrics"][k] == pytest.approx(v, rel=1e-4, abs=1e-7), k
    # the reference features the sharded run cached are the single process's (one cache entry, rank 0's)
    second = evaluate(GeneratorSource(generator(), N, seed=0), reference(), metrics=("fid",), protocol=PROTOCOL,
                      device="cpu", progress=False, options=EvaluateOptions(model=net))
    assert second["provenance"]["reference"]["cache_hit"]
    assert second["metrics"]["fid"] == pytest.approx(single["metrics"]["fid"], rel=1e-4)


def test_sample_shards_are_the_rows_of_sample_images():
    G = generator()
    whole = sample_images(G, 7, 3, batch_size=3)
    parts = [sample(G, 7, 3, batch_size=3, rows=(s, e)).images for s, e in ((0, 4), (4, 7))]
    assert torch.equal(torch.cat(parts), whole)


def test_cli_nproc_splits_the_extraction_and_gives_the_same_numbers(tmp_path, capsys, samples, reference):
    import numpy as np

    from ganbench.cli import main

    np.save(tmp_path / "s.npy", samples[:6].numpy())
    np.save(tmp_path / "r.npy", reference[:7].numpy())
    args = ["metrics", str(tmp_path / "s.npy"), str(tmp_path / "r.npy"), "--metrics", "fid,kid", "--kid-subsets", "3",
            "--kid-subset-size", "4", "--json", "--no-cache"]
    assert main([*args, "--nproc", "2"]) == 0
    two = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    one = json.loads(capsys.readouterr().out)
    assert two["provenance"]["world_size"] == 2 and one["provenance"]["world_size"] == 1
    for k, v in one["metrics"].items():
        assert two["metrics"][k] == pytest.approx(v, rel=1e-4, abs=1e-7), k
    assert main([*args, "--nproc", "0"]) == 2  # a bad count is a one-line error
    assert "--nproc must be an integer >= 1" in capsys.readouterr().err
