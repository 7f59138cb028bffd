"""Exponential moving average of the generator's weights (Karras et al. 2018; Yazici et al. 2019).

Parameters are averaged; buffers (batch-norm statistics, spectral-norm vectors) are copied,
as GAN practice does, since an average of power-iteration vectors is not one. The decay ramps
up as min(decay, (1 + t) / (10 + t)) over the t averaging steps done so far (TensorFlow's
``ExponentialMovingAverage(num_updates=t)``), so short runs are not dominated by the init.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class GeneratorEMA:
    def __init__(self, G: nn.Module, decay: float):
        self.decay = decay
        self.module = copy.deepcopy(G).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, G: nn.Module) -> None:
        beta = min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))
        for p_ema, p in zip(self.module.parameters(), G.parameters()):
            p_ema.lerp_(p.detach(), 1.0 - beta)
        for b_ema, b in zip(self.module.buffers(), G.buffers()):
            b_ema.copy_(b)
        self.updates += 1

    @torch.no_grad()
    def copy_from(self, G: nn.Module) -> None:
        """Before averaging starts the average is the generator itself."""
        for t_ema, t in zip(self.module.state_dict().values(), G.state_dict().values()):
            t_ema.copy_(t)

    def state_dict(self) -> dict:
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
