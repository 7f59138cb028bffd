"""Process groups (``torchrun``): this process's rank and device, shards of work, gathers, barriers.

Shared by training (DDP) and evaluation (sharded feature extraction); a single process is a group of one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from .devices import resolve_device
from .errors import BadInput


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
        torch.cuda.set_device(_own_gpu(int(os.environ.get("LOCAL_RANK", "0"))))
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    return current()


def rank_device(device, d: Dist) -> torch.device:
    """This rank's device. In a process group: ``cuda:LOCAL_RANK`` when asked for plain ``cuda``, and by default when
    the group runs NCCL; a gloo group's ranks default to the CPU (a CPU group on a machine that also has a GPU, or
    more ranks than GPUs, must not reach for ``cuda:LOCAL_RANK``). A single process: ``resolve_device``."""
    if d.enabled and torch.cuda.is_available() and (str(device) == "cuda" or (device is None and d.backend == "nccl")):
        return torch.device("cuda", _own_gpu(d.local_rank))
    if d.enabled and device is None:
        return torch.device("cpu")
    return resolve_device(device)


def _own_gpu(local_rank: int) -> int:
    """``local_rank`` as this rank's GPU index, checked: torchrun may start more processes than the machine has GPUs."""
    if local_rank >= torch.cuda.device_count():
        raise BadInput(f"rank with LOCAL_RANK {local_rank} has no GPU of its own: this machine has "
                       f"{torch.cuda.device_count()}; start at most that many processes per machine "
                       "(torchrun --nproc_per_node) or pass --device cpu")
    return local_rank


def rank_seed(seed: int, rank: int) -> int:
    """Seed of rank ``rank``'s generator for random tricks; distinct from the run's other streams (seed+1..+3)."""
    return seed + 10_007 * (rank + 1)


def shard(n: int, rank: int, world: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous ``[start, end)`` of ``n`` items; shards differ in size by at most one."""
    base, extra = divmod(n, world)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


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


def all_agree(flag: bool, d: Dist) -> bool:
    """True when ``flag`` is true on every rank (a collective call; a single process answers its own flag)."""
    if not d.enabled:
        return flag
    comm = torch.device("cuda", torch.cuda.current_device()) if d.backend == "nccl" else torch.device("cpu")
    t = torch.tensor([1 if flag else 0], device=comm)
    dist.all_reduce(t, op=dist.ReduceOp.MIN)
    return bool(t.item())
