"""DDP training on 2 CPU processes (gloo) against the single-process trainer.

Exact check: the fully connected ``gan`` baseline (no batch norm, no random tricks) shrunk to
batch 8: 2 ranks x 4 images make the single process's batch of 8, so the rank-averaged losses
equal the single-process losses (tolerance 1e-5; only float summation order differs). DCGAN
(batch norm: per-rank statistics on CPU, see ganbench.train.distributed) is checked to train,
write one checkpoint from rank 0 and resume exactly. One ``mp.spawn`` runs all of it.

The ranks run as under torch 2.11, whose DDP broadcast rank 0's buffers before each forward without
preserving their autograd version counters (torch 2.14 wraps that broadcast in
``torch.autograd._unsafe_preserve_version_counter``, nn/parallel/distributed.py ``_sync_buffers``). There a
rank's D step failed in backward ("modified by an inplace operation", a batch-norm running mean of 16
floats that the real batch's forward saved and the fake batch's broadcast overwrote), as it did on an H200
under torch 2.11 (2026-12-04). ``older_torch_buffer_broadcast`` brings that behaviour back here.
"""

import contextlib
import csv
import dataclasses

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ganbench.data import array_image_set
from ganbench.errors import BadInput
from ganbench import dist as gdist
from ganbench.train.checkpoint import load_checkpoint, load_generator
from ganbench.train.trainer import TrainOptions, train
from ganbench.zoo.baselines import load_baseline

QUIET = dict(progress=False, options=TrainOptions(tensorboard=False, log_every=1))
LOSS_TOL = 1e-5


def data():
    g = torch.Generator().manual_seed(0)
    return array_image_set(torch.randint(0, 256, (64, 1, 28, 28), generator=g, dtype=torch.uint8).numpy(), "tiny")


def shrink(spec, width, batch):
    return dataclasses.replace(spec, batch_size=batch, arch=dataclasses.replace(spec.arch, width=width, z_dim=8))


def specs():
    return shrink(load_baseline("gan"), width=4, batch=8), shrink(load_baseline("dcgan"), width=4, batch=8)


def older_torch_buffer_broadcast() -> None:
    """DDP's buffer broadcast bumps the buffers' version counters, as under torch 2.11."""
    if hasattr(torch.autograd, "_unsafe_preserve_version_counter"):
        torch.autograd._unsafe_preserve_version_counter = lambda tensors: contextlib.nullcontext()


def worker(rank: int, world: int, root: str) -> None:
    torch.set_num_threads(1)
    older_torch_buffer_broadcast()
    dist.init_process_group("gloo", init_method=f"file://{root}/store", rank=rank, world_size=world)
    try:
        gan, dcgan = specs()
        ds = data()
        train(gan, ds, f"{root}/gan", steps=3, **QUIET)
        train(dcgan, ds, f"{root}/dcgan", steps=4, **QUIET)
        train(dcgan, ds, f"{root}/dcgan-resumed", steps=2, **QUIET)
        r = train(dcgan, ds, f"{root}/dcgan-resumed", steps=4, **QUIET)
        assert r.steps == 4
        with pytest.raises(BadInput, match="does not split over 2 processes"):
            train(dataclasses.replace(gan, batch_size=7), ds, f"{root}/odd", steps=1, **QUIET)
    finally:
        dist.destroy_process_group()


def losses(path):
    return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(open(path / "train_log.csv"))]


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    mp.spawn(worker, args=(2, str(root)), nprocs=2, join=True)
    return root


def test_two_ranks_match_one_process_at_the_same_global_batch(ddp_runs, tmp_path):
    gan, _ = specs()
    single = train(gan, data(), tmp_path, steps=3, **QUIET)
    one, two = losses(tmp_path), losses(ddp_runs / "gan")
    assert [r["step"] for r in two] == [1, 2, 3] and two[-1]["kimg"] == one[-1]["kimg"] == 3 * 8 / 1000
    for a, b in zip(one, two):
        for k in ("d_loss", "g_loss"):
            assert b[k] == pytest.approx(a[k], abs=LOSS_TOL), (a["step"], k)
    # same global gradient at every step: the weights stay equal too
    sa = load_checkpoint(single.checkpoint)["model"]
    sb = load_checkpoint(ddp_runs / "gan")["model"]
    for part in ("G", "D"):
        for key, v in sa[part].items():
            torch.testing.assert_close(sb[part][key], v, atol=1e-5, rtol=1e-4)
    status = load_checkpoint(ddp_runs / "gan")
    assert status["model"]["world_size"] == 2 and len(status["rng_ranks"]) == 2


def test_batch_norm_net_trains_and_resumes_exactly(ddp_runs):
    straight, resumed = load_checkpoint(ddp_runs / "dcgan"), load_checkpoint(ddp_runs / "dcgan-resumed")
    assert straight["step"] == resumed["step"] == 4
    for part in ("G", "D"):
        for key, v in straight["model"][part].items():
            assert torch.equal(resumed["model"][part][key], v), (part, key)
    assert [r["step"] for r in losses(ddp_runs / "dcgan")] == [1, 2, 3, 4]
    assert load_generator(ddp_runs / "dcgan")(torch.zeros(2, 8)).shape == (2, 1, 32, 32)
    assert not list(ddp_runs.rglob("*.tmp")) and not (ddp_runs / "odd").exists()


def test_shards_cover_everything_once():
    for n, world in ((10, 3), (8, 2), (2, 4)):
        parts = [gdist.shard(n, r, world) for r in range(world)]
        assert parts[0][0] == 0 and parts[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
        assert max(e - s for s, e in parts) - min(e - s for s, e in parts) <= 1
