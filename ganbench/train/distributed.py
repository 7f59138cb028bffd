"""One model on several processes (GPUs) with PyTorch's DistributedDataParallel.

``ganbench train`` under ``torchrun --nproc_per_node N`` calls :func:`init_from_env` (NCCL on
CUDA, gloo on CPU); the trainer then builds a :class:`DistributedGANModel` instead of a
``GANModel``. The global batch stays the spec's ``batch_size``: each rank takes a disjoint
``batch_size / N`` slice of the very batch a single process would draw (same data order, same
latents, drawn from generators seeded alike on every rank), so with a net without batch norm
and without random tricks the averaged step equals the single-process step. Random tricks
(penalty interpolation, DiffAugment, instance noise) draw from a per-rank generator
(:func:`rank_seed`). Batch norm is synced (``SyncBatchNorm``) on CUDA; on CPU SyncBatchNorm does
not run, so each rank normalises over its own slice and DDP broadcasts rank 0's running
statistics at every forward. Rank 0 alone writes checkpoints, logs and sample grids.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel as DDP

from ..config import ModelSpec
from ..errors import BadInput
from ..zoo.latent import draw_latents
from ..zoo.model import GANModel


@dataclass(frozen=True)
class Dist:
    """This process's place: rank, world size, local rank (its GPU on the machine)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def current() -> Dist:
    """The initialised process group's view, or a single process."""
    if not (dist.is_available() and dist.is_initialized()):
        return Dist()
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())),
                dist.get_backend())


def init_from_env(device: str | None = None) -> Dist:
    """Join torchrun's process group when ``WORLD_SIZE`` > 1 (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT
    from the environment): NCCL when this rank uses CUDA, gloo on CPU. A single process is left alone."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return current()
    cuda = torch.cuda.is_available() and not str(device or "").startswith("cpu")
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    return current()


def rank_device(device, d: Dist) -> torch.device:
    """This rank's device: ``cuda:LOCAL_RANK`` when CUDA is present (or asked as plain ``cuda``), else the one given."""
    if device is None or str(device) == "cuda":
        if torch.cuda.is_available():
            return torch.device("cuda", d.local_rank)
        return torch.device("cpu") if device is None else torch.device(device)
    return torch.device(device)


def rank_seed(seed: int, rank: int) -> int:
    """Seed of rank ``rank``'s generator for random tricks; distinct from the run's other streams (seed+1..+3)."""
    return seed + 10_007 * (rank + 1)


def shard(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous ``[start, end)`` of ``n`` items; shards differ in size by at most one."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def per_rank_batch(spec: ModelSpec, d: Dist) -> int:
    if spec.batch_size % d.world_size:
        raise BadInput(f"batch size {spec.batch_size} does not split over {d.world_size} processes; give a global "
                       f"batch size divisible by {d.world_size} (--batch-size)")
    return spec.batch_size // d.world_size


class ShardedBatches:
    """This rank's slice of each global batch of a ``BatchStream`` (which every rank runs with the same seed)."""

    def __init__(self, stream, d: Dist):
        self.stream, self.d = stream, d

    def __call__(self) -> Tensor:
        x = self.stream()  # (global batch, C, H, W); the conversion of the other ranks' rows is cheap
        start, end = shard(len(x), self.d.rank, self.d.world_size)
        return x[start:end]

    def state_dict(self) -> dict:
        return self.stream.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.stream.load_state_dict(state)


def has_batch_norm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class DistributedGANModel(GANModel):
    """A ``GANModel`` whose G and D forwards go through DDP, each rank on its slice of the global batch.

    ``self.G`` / ``self.D`` stay the plain modules (checkpoints and samplers see the usual keys).
    D's DDP wrapper is used only in D's update: in G's update D is frozen and needs no gradient sync.
    """

    def __init__(self, spec: ModelSpec, shape: tuple, device: torch.device, seed: int, d: Dist,
                 channels_last: bool = False):
        super().__init__(dataclasses.replace(spec, batch_size=per_rank_batch(spec, d)), shape, device, seed,
                         channels_last=channels_last)
        self.joint_d = False  # SyncBatchNorm (below) would normalise real and fake together
        self.dist = d
        self.latent_gen = torch.Generator(device=self.device).manual_seed(seed + 1)  # alike on every rank
        cuda = self.device.type == "cuda"
        if cuda:
            # same Parameter objects: the optimisers built above keep working
            self.G = nn.SyncBatchNorm.convert_sync_batchnorm(self.G) if has_batch_norm(self.G) else self.G
            self.D = nn.SyncBatchNorm.convert_sync_batchnorm(self.D) if has_batch_norm(self.D) else self.D
        ids = [self.device.index] if cuda else None
        self.g_fwd = DDP(self.G, device_ids=ids)  # also broadcasts rank 0's weights: every rank starts alike
        self.d_fwd = DDP(self.D, device_ids=ids)

    def latents(self, n: int, generator: torch.Generator) -> Tensor:
        """This rank's rows of the global latent batch ``(n * world, z_dim)`` drawn by every rank alike."""
        w = self.dist.world_size
        z = draw_latents(n * w, self.z_dim, self.latent_gen, self.device, self.spec.arch.z_dist)
        start, end = shard(n * w, self.dist.rank, w)
        return z[start:end]

    def g_step(self, generator: torch.Generator) -> dict[str, Tensor]:
        ddp_d, self.d_fwd = self.d_fwd, self.D
        try:
            return super().g_step(generator)
        finally:
            self.d_fwd = ddp_d

    def train_step(self, next_real, generator: torch.Generator) -> dict[str, Tensor]:
        """The step on every rank; the logged losses are averaged over ranks (the global batch's means)."""
        logs = super().train_step(next_real, generator)
        values = torch.stack([v.float() for v in logs.values()])
        dist.all_reduce(values)
        values /= self.dist.world_size
        return dict(zip(logs, values))

    def state_dict(self) -> dict:
        return {**super().state_dict(), "latent_rng": self.latent_gen.get_state(), "world_size": self.dist.world_size}

    def load_state_dict(self, state: dict) -> None:
        if state.get("world_size") != self.dist.world_size:
            raise BadInput(f"this checkpoint was trained on {state.get('world_size', 1)} process(es), not "
                           f"{self.dist.world_size}; resume it with the same number of processes")
        super().load_state_dict(state)
        self.latent_gen.set_state(state["latent_rng"])


def gather_states(state: Tensor, d: Dist) -> list[Tensor]:
    """Every rank's generator state (a uint8 tensor), in rank order; a collective call."""
    out: list = [None] * d.world_size
    dist.all_gather_object(out, state)
    return out


def gather_rows(x: Tensor, d: Dist) -> Tensor:
    """Concatenate every rank's ``(n_r, ...)`` rows in rank order (shards may differ in length); a collective call."""
    if not d.enabled:
        return x
    comm = torch.device("cuda", torch.cuda.current_device()) if d.backend == "nccl" else torch.device("cpu")
    n = torch.tensor([len(x)], device=comm)
    sizes = [torch.zeros_like(n) for _ in range(d.world_size)]
    dist.all_gather(sizes, n)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros((longest, *x.shape[1:]), dtype=x.dtype, device=comm)
    padded[:len(x)] = x.to(comm)
    parts = [torch.empty_like(padded) for _ in range(d.world_size)]
    dist.all_gather(parts, padded)
    return torch.cat([p[:int(s.item())] for p, s in zip(parts, sizes)]).to(x.device)


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()
