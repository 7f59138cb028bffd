"""One model on several processes (GPUs) with PyTorch's DistributedDataParallel.

``ganbench train`` under ``torchrun --nproc_per_node N`` calls :func:`init_from_env` (NCCL on
CUDA, gloo on CPU); the trainer then builds a :class:`DistributedGANModel` instead of a
``GANModel``. The global batch stays the spec's ``batch_size``: each rank takes a disjoint
``batch_size / N`` slice of the very batch a single process would draw (same data order, same
latents, drawn from generators seeded alike on every rank), so with a net without batch norm
and without random tricks the averaged step equals the single-process step. Random tricks
(penalty interpolation, DiffAugment, instance noise) draw from a per-rank generator
(:func:`rank_seed`). Batch norm is synced (``SyncBatchNorm``) on CUDA; on CPU SyncBatchNorm does
not run, so each rank normalises over its own slice and rank 0's buffers (running statistics) are
broadcast to every rank after each step (:meth:`DistributedGANModel.sync_buffers`), not by DDP before
each forward: a D step forwards the real and the fake batch before its backward, and DDP's broadcast
before the second forward overwrote the running mean that the first saved for backward, which torch 2.11
refuses ("modified by an inplace operation"; torch 2.14 hides the write from autograd). Rank 0's numbers
are the same either way: in training mode the running statistics feed no forward. Rank 0 alone writes
checkpoints, logs and sample grids.
"""

from __future__ import annotations

import dataclasses
import inspect

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors
from torch.nn.parallel import DistributedDataParallel as DDP

from ..config import ModelSpec
from ..dist import Dist, shard
from ..errors import BadInput
from ..zoo.latent import draw_latents
from ..zoo.model import GANModel


def per_rank_batch(spec: ModelSpec, d: Dist) -> int:
    if spec.batch_size % d.world_size:
        raise BadInput(f"batch size {spec.batch_size} does not split over {d.world_size} processes; give a global "
                       f"batch size divisible by {d.world_size} (--batch-size)")
    return spec.batch_size // d.world_size


# newer torch (2.14 here) names DDP's broadcast_buffers forward_sync_buffers, the old name deprecated
_NO_FORWARD_BUFFER_SYNC = ({"forward_sync_buffers": False}
                           if "forward_sync_buffers" in inspect.signature(DDP.__init__).parameters
                           else {"broadcast_buffers": False})


class ShardedBatches:
    """This rank's slice of each global batch of a ``BatchStream`` (which every rank runs with the same seed)."""

    def __init__(self, stream, d: Dist):
        self.stream, self.d = stream, d

    def __call__(self) -> tuple[Tensor, Tensor | None]:
        x, y = self.stream()  # (global batch, C, H, W); the conversion of the other ranks' rows is cheap
        start, end = shard(len(x), self.d.rank, self.d.world_size)
        return x[start:end], (y[start:end] if y is not None else None)

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
                 channels_last: bool | None = None, num_classes: int = 0, class_probs=None):
        super().__init__(dataclasses.replace(spec, batch_size=per_rank_batch(spec, d)), shape, device, seed,
                         channels_last=channels_last, num_classes=num_classes, class_probs=class_probs)
        self.joint_d = False  # SyncBatchNorm (below) would normalise real and fake together
        self.dist = d
        self.latent_gen = torch.Generator(device=self.device).manual_seed(seed + 1)  # alike on every rank
        cuda = self.device.type == "cuda"
        if cuda:
            # same Parameter objects: the optimisers built above keep working
            self.G = nn.SyncBatchNorm.convert_sync_batchnorm(self.G) if has_batch_norm(self.G) else self.G
            self.D = nn.SyncBatchNorm.convert_sync_batchnorm(self.D) if has_batch_norm(self.D) else self.D
        ids = [self.device.index] if cuda else None
        # growing nets (progressive growing) leave the blocks of later phases without gradients
        unused = any(hasattr(m, "set_phase") for m in self.G.modules())
        # also broadcasts rank 0's weights; buffers: sync_buffers
        self.g_fwd = DDP(self.G, device_ids=ids, find_unused_parameters=unused, **_NO_FORWARD_BUFFER_SYNC)
        self.d_fwd = DDP(self.D, device_ids=ids, find_unused_parameters=unused, **_NO_FORWARD_BUFFER_SYNC)
        self.sync_buffers()

    def sync_buffers(self) -> None:
        """Rank 0's buffers of G and D on every rank, one broadcast per dtype, outside any autograd graph."""
        buffers = [*self.G.buffers(), *self.D.buffers()]
        with torch.no_grad():
            for dtype in dict.fromkeys(b.dtype for b in buffers):
                same = [b for b in buffers if b.dtype == dtype]
                flat = _flatten_dense_tensors(same)
                dist.broadcast(flat, 0)
                for b, v in zip(same, _unflatten_dense_tensors(flat, same)):
                    b.copy_(v)

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

    def train_step(self, next_real, generator: torch.Generator, progress=None) -> dict[str, Tensor]:
        """The step on every rank; the logged losses are averaged over ranks (the global batch's means)."""
        logs = super().train_step(next_real, generator, progress)
        self.sync_buffers()  # after every backward of the step
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
