"""Real batches for training: ``(images, labels)``, shuffled epoch by epoch from tensors already on the device."""

from __future__ import annotations

import torch

from ..images import DEFAULT_RANGE, to_float


class BatchStream:
    """Shuffled mini-batches of real images in ``value_range`` ([-1, 1] by default) with their labels (None when unlabelled), epoch by epoch
    (the last partial batch dropped). The order comes from a CPU generator seeded ``seed``; its state is
    checkpointed, so a resumed run draws the very batches an uninterrupted one would."""

    def __init__(self, data: torch.Tensor, batch_size: int, seed: int, labels: torch.Tensor | None = None,
                 value_range: tuple[float, float] = DEFAULT_RANGE):
        self.data, self.batch_size = data, batch_size  # uint8 (N, C, H, W) on the training device
        self.value_range = value_range
        self.labels = labels.to(data.device) if labels is not None else None
        self.gen = torch.Generator().manual_seed(seed)
        self.perm, self.pos = torch.randperm(len(data), generator=self.gen), 0

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.pos + self.batch_size > len(self.perm):
            self.perm, self.pos = torch.randperm(len(self.data), generator=self.gen), 0
        idx = self.perm[self.pos:self.pos + self.batch_size].to(self.data.device)
        self.pos += self.batch_size
        return to_float(self.data[idx], self.value_range), (self.labels[idx] if self.labels is not None else None)

    def set_batch_size(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def state_dict(self) -> dict:
        return {"gen": self.gen.get_state(), "perm": self.perm, "pos": self.pos}

    def load_state_dict(self, state: dict) -> None:
        self.gen.set_state(state["gen"])
        self.perm, self.pos = state["perm"], int(state["pos"])
