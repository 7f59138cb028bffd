"""A GAN built from a ModelSpec: nets, optimisers, loss, tricks, and its training step.

The model owns one step (n_critic D updates, one G update); ``ganbench.train.trainer`` owns the
loop. All randomness (latents, interpolation weights, augmentations, instance noise) comes from
the ``torch.Generator`` passed in, which lives on the model's device.
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelSpec, OptimSpec
from ..devices import native_bfloat16
from ..errors import BadInput, GanbenchWarning
from .ema import GeneratorEMA
from .augment import AdaptiveAugment, diff_augment, parse_policy
from .losses import LOSSES
from .latent import draw_latents
from .conditioning import Heads, conditional, split_heads
from .nets import NETS, build_nets, split_batches
from .objective import DStep, d_terms
from ..registry import Registry
from .regularizers import CONSTRAINTS, GRADIENT_PENALTIES, PENALTIES, with_grad_norm_eps
from .schedules import Phase

#: An optimiser factory: (parameters, spec, fast) -> optimiser. ``fast`` asks for the fused kernel where
#: torch has one: one pass over each parameter instead of a dozen (Adam's update of the 6.4M-weight
#: layers of the Lucic net drops from ~30 ms to ~2 ms per step on 2 CPU cores); same update up to float noise.
OPTIMIZERS: Registry[Callable[[list, OptimSpec, bool], torch.optim.Optimizer]] = Registry("optimiser")
OPTIMIZERS.add("adam", lambda params, o, fast: torch.optim.Adam(params, lr=o.lr, betas=o.betas, fused=fast or None))
OPTIMIZERS.add("rmsprop", lambda params, o, fast: torch.optim.RMSprop(params, lr=o.lr))
OPTIMIZERS.add("sgd", lambda params, o, fast: torch.optim.SGD(params, lr=o.lr))


class PenaltyThroughBatchNorm(GanbenchWarning):
    """A model penalises D's gradients through batch norm on purpose (its spec sets penalty_through_batch_norm)."""


def warn_penalty_through_batch_norm(spec: ModelSpec, penalties: list[str], D: nn.Module) -> None:
    """The warning a model gives when it trains a gradient penalty through D's batch norm (the spec allows it)."""
    if penalties and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules()):
        warnings.warn(f"{spec.name}: {', '.join(penalties)} penalises D's per-sample gradients through batch norm, "
                      "which couples them across the batch; kept because the spec sets "
                      "tricks.penalty_through_batch_norm (compare_gan v1 does this)", PenaltyThroughBatchNorm,
                      stacklevel=3)


def in_memory_format(x: Tensor, memory_format: torch.memory_format) -> Tensor:
    """``x`` (N, C, H, W) in ``memory_format``. One channel in channels-last gets channels-last strides, a view of
    the same memory: PyTorch reads a C = 1 batch as contiguous whatever its format, and a convolution on it then
    writes its C-channel output contiguous, which the next channels-last layer copies back (``bench_pggan.py``)."""
    x = x.contiguous(memory_format=memory_format)
    if memory_format is torch.channels_last and x.shape[1] == 1 and x.is_contiguous():
        n, _, h, w = x.shape
        x = x.as_strided(x.shape, (h * w, 1, w, 1))
    return x


def batch_coupled(D: nn.Module) -> bool:
    """True when D's output for a sample depends on the others in its batch beyond batch norm (minibatch stddev)."""
    return any(getattr(m, "batch_coupled", False) for m in D.modules())


class GANModel:
    """G, D and their optimisers for samples of ``shape`` ((C, H, W) images or (2,) points)."""

    def __init__(self, spec: ModelSpec, shape: tuple, device: torch.device | str = "cpu", seed: int = 0,
                 channels_last: bool | None = None, compile: bool = False, fast: bool = True, num_classes: int = 0,
                 class_probs: Tensor | None = None):
        self.spec, self.shape, self.device = spec, tuple(shape), torch.device(device)
        t = spec.tricks
        self.conditional = conditional(spec.arch.g_conditioning, spec.arch.d_conditioning)
        self.num_classes = num_classes if self.conditional else 0
        G, D = build_nets(spec.arch, self.shape, t.spectral_norm_g, t.spectral_norm_d, seed, self.num_classes)
        if self.conditional:  # fake labels follow the training set's class distribution (uniform if not given)
            probs = torch.full((num_classes,), 1.0 / num_classes) if class_probs is None else \
                torch.as_tensor(class_probs, dtype=torch.float64) / float(torch.as_tensor(class_probs).sum())
            G.class_probs = probs.float()
            self.class_probs = probs.float().to(self.device)
        self.ac = spec.arch.d_conditioning == "ac"
        if channels_last is None:  # the net family's measured default
            channels_last = NETS.get(spec.arch.name).channels_last
        self.memory_format = torch.channels_last if channels_last and len(self.shape) == 3 else torch.contiguous_format
        self.G = G.to(self.device, memory_format=self.memory_format)
        self.D = D.to(self.device, memory_format=self.memory_format)
        self.z_dim = spec.arch.z_dim
        self.batch_size = spec.batch_size  # a schedule's phase may change it
        self.opt_g = OPTIMIZERS.get(spec.optim_g.name)(list(self.G.parameters()), spec.optim_g, fast)
        self.opt_d = OPTIMIZERS.get(spec.optim_d.name)(list(self.D.parameters()), spec.optim_d, fast)
        self.loss = LOSSES.get(spec.loss)
        self.penalties = [(name, with_grad_norm_eps(PENALTIES.get(name), t.grad_norm_eps), getattr(t, name))
                          for name in PENALTIES if getattr(t, name)]
        warn_penalty_through_batch_norm(spec, [name for name in GRADIENT_PENALTIES if getattr(t, name)], self.D)
        if t.bcr and len(self.shape) != 3:
            raise BadInput(f"{spec.name}: tricks.bcr flips and shifts images; this data has shape {self.shape}")
        self.penalty_state: dict[str, dict[str, Tensor]] = {name: {} for name, _, _ in self.penalties}
        self.constraints = [(CONSTRAINTS.get(name), getattr(t, name)) for name in CONSTRAINTS if getattr(t, name)]
        self.constrain_first = t.weight_clip_at == "before_step"  # the constraints before the D step, not after
        self.policy = parse_policy(t.diffaugment)
        self.ada = AdaptiveAugment(t.ada_target) if t.ada_target else None
        self.ema = GeneratorEMA(self.G, t.ema) if t.ema else None
        self.amp = bool(t.amp and native_bfloat16(self.device))  # bfloat16 autocast where it runs natively
        self.d_terms = d_terms(self)  # what D's objective adds to its loss (zoo.objective)
        self.g_fwd = torch.compile(self.G) if compile else self.G
        self.d_fwd = torch.compile(self.D) if compile else self.D
        # D's update reads real and fake in one forward (batch norm still per half, see split_batches);
        # spectral norm's power iteration runs once per forward, so SN nets keep two forwards.
        self.joint_d = fast and not t.spectral_norm_d and not batch_coupled(self.D)
        self.cheap_double_backward = fast  # the penalties' second derivatives on zoo.double_backward's kernels
        self.g_steps = 0
        self.phase, self.phase_name = Phase(), None  # the schedule's phase (zoo.schedules)
        self._last_latents: tuple[Tensor, Tensor | None] | None = None
        self.full_resolution = self.shape[-1]

    # ------------------------------------------------------------------ pieces
    def autocast(self):
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    def latents(self, n: int, generator: torch.Generator) -> Tensor:
        return draw_latents(n, self.z_dim, generator, self.device, self.spec.arch.z_dist)

    def fake_labels(self, n: int, generator: torch.Generator) -> Tensor | None:
        """Labels for ``n`` fakes, drawn from the training class distribution (None for an unconditional model)."""
        if not self.conditional:
            return None
        return torch.multinomial(self.class_probs, n, replacement=True, generator=generator)

    def generate(self, z: Tensor, c: Tensor | None) -> Tensor:
        return self.g_fwd(z) if c is None else self.g_fwd(z, c)

    def discriminate(self, x: Tensor, c: Tensor | None) -> Heads:
        if x.dim() == 4:  # images (reals, fakes, a penalty's points) in the nets' memory format
            x = in_memory_format(x, self.memory_format)
        return split_heads(self.d_fwd(x) if c is None else self.d_fwd(x, c))

    def penalised(self, x: Tensor) -> Tensor:
        """The D output gradient penalties differentiate: the raw output, or its sigmoid (compare_gan's DRAGAN).
        A conditional D reads the real batch's labels."""
        return self.penalty_output(self.discriminate(x, self._penalty_labels).adv)

    def penalty_output(self, out: Tensor) -> Tensor:
        return torch.sigmoid(out) if self.spec.tricks.penalty_output == "sigmoid" else out

    def class_loss(self, logits: Tensor | None, labels: Tensor | None) -> Tensor | None:
        """The auxiliary classifier's cross-entropy (Odena et al. 2017, eq. 2), or None without one."""
        if not self.ac or logits is None:
            return None
        return F.cross_entropy(logits.float(), labels)

    def d_input(self, x: Tensor, generator: torch.Generator) -> Tensor:
        """What D sees: DiffAugment (each op with ADA's probability, when the spec adapts it), then instance noise
        (both re-drawn for every batch)."""
        if self.policy:
            x = diff_augment(x, self.policy, generator, self.ada.p if self.ada else 1.0)
        if self.spec.tricks.instance_noise:
            x = x + self.spec.tricks.instance_noise * torch.randn(x.shape, generator=generator, device=x.device)
        return x

    def sampler(self) -> nn.Module:
        """The generator to sample from: the EMA copy when the spec keeps one."""
        return self.ema.module if self.ema else self.G

    # -------------------------------------------------------------------- step
    def d_step(self, real: Tensor, generator: torch.Generator, labels: Tensor | None = None) -> dict[str, Tensor]:
        """One D update on a real batch ``(N, *shape)`` (with its labels, for a conditional model); returns
        detached scalars."""
        real = real.to(self.device, non_blocking=True).contiguous(memory_format=self.memory_format) \
            if len(self.shape) == 3 else real.to(self.device)
        real = self.phase.reals(real, self.full_resolution)  # progressive growing: the phase's level of detail
        labels = self.real_labels(labels)
        c_fake = self.fake_labels(real.shape[0], generator)
        z = self.latents(real.shape[0], generator)
        self._last_latents = (z, c_fake)  # the G step reuses them under tricks.g_latents: reuse
        with torch.no_grad(), self.autocast():
            fake = self.generate(z, c_fake)
        real_in, fake_in = self.d_input(real, generator), self.d_input(fake.float(), generator)
        if self.constrain_first:
            self.constrain()
        h_real, h_fake = self.discriminate_pair(real_in, fake_in, labels, c_fake)
        loss = self.loss.d_loss(h_real.adv.float(), h_fake.adv.float(), 1.0 - self.spec.tricks.label_smoothing)
        logs = {"d_loss": loss.detach()}
        step = DStep(real_in, fake_in, h_real, h_fake, labels, c_fake, generator)
        for term in self.d_terms:  # the classifier, adaptive augmentation, the penalties (zoo.objective)
            value, logged = term(self, step)
            loss = loss if value is None else loss + value
            logs.update(logged)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        if not self.constrain_first:
            self.constrain()
        if self.penalties:
            logs["d_total"] = loss.detach()
        self._last_real, self._last_labels = real, labels
        return logs

    def constrain(self) -> None:
        """D's constraints (WGAN's weight clipping), in place."""
        for constrain, value in self.constraints:
            constrain(self.D, value)

    def real_labels(self, labels: Tensor | None) -> Tensor | None:
        """The real batch's labels on the device for a conditional model (which needs them), None otherwise."""
        if not self.conditional:
            return None
        if labels is None:
            raise BadInput(f"{self.spec.name} is conditional and needs labelled batches")
        return labels.to(self.device)

    def discriminate_pair(self, real_in: Tensor, fake_in: Tensor, labels: Tensor | None,
                          c_fake: Tensor | None) -> tuple[Heads, Heads]:
        """D's heads on the real and the fake batch: one forward over both where the nets allow (what couples a
        batch, batch norm or the minibatch stddev, still sees each half alone: ``split_batches``), else two."""
        with self.autocast():
            if self.joint_d and real_in.shape == fake_in.shape:
                both = None if labels is None else torch.cat([labels, c_fake])
                with split_batches(self.D, 2):
                    heads = self.discriminate(torch.cat([real_in, fake_in]), both)
                return (Heads(*(t.chunk(2)[0] if t is not None else None for t in heads)),
                        Heads(*(t.chunk(2)[1] if t is not None else None for t in heads)))
            return self.discriminate(real_in, labels), self.discriminate(fake_in, c_fake)

    def g_latents(self, generator: torch.Generator) -> tuple[Tensor, Tensor | None]:
        """The G step's latents and labels: a fresh draw of ``batch_size``, or (``tricks.g_latents: reuse``) the last
        D step's, as compare_gan v1 feeds its G step the D step's ``batch_z`` (abstract_gan.py,
        run_single_train_step) unless the model resamples (WGAN_GP.py ``resample_before_generator``)."""
        if self.spec.tricks.g_latents == "reuse" and self._last_latents is not None:
            return self._last_latents
        n = self.batch_size
        c = self.fake_labels(n, generator)
        return self.latents(n, generator), c

    def g_step(self, generator: torch.Generator) -> dict[str, Tensor]:
        """One G update; relativistic losses also read D on the last real batch."""
        self.D.requires_grad_(False)
        try:
            z, c = self.g_latents(generator)
            with self.autocast():
                fake = self.generate(z, c)
                h_fake = self.discriminate(self.d_input(fake, generator), c)
            out_real = None
            if self.loss.g_needs_real:
                with torch.no_grad(), self.autocast():
                    last = self.d_input(self._last_real, generator)
                    out_real = self.discriminate(last, self._last_labels).adv.float()
            loss = self.loss.g_loss(h_fake.adv.float(), out_real)
            ce = self.class_loss(h_fake.cls, c)
            if ce is not None:  # G makes fakes its class's
                loss = loss + self.spec.tricks.ac_weight * ce
            self.opt_g.zero_grad(set_to_none=True)
            loss.backward()
            self.opt_g.step()
        finally:
            self.D.requires_grad_(True)
        self.g_steps += 1
        if self.ema:
            if self.g_steps > self.spec.tricks.ema_start:
                self.ema.update(self.G)
            else:
                self.ema.copy_from(self.G)
        return {"g_loss": loss.detach()}

    def train_step(self, next_real: Callable[[], tuple[Tensor, Tensor | None]], generator: torch.Generator,
                   progress=None) -> dict[str, Tensor]:
        """n_critic D updates, each on a fresh ``(images, labels)`` batch from ``next_real()``, then one G update.

        ``progress`` (``train.loop.Progress``: step, kimg, fraction) says how far training has come; an
        unconditional model ignores the labels.
        """
        for _ in range(self.spec.tricks.n_critic):
            images, labels = next_real()
            logs = self.d_step(images, generator, labels)
        return {**logs, **self.g_step(generator)}

    def set_phase(self, phase: Phase) -> None:
        """Enter a schedule's phase between steps: learning rates scaled from the spec's, the growing nets' active
        resolution and fade-in (G, its EMA copy and D), and, at a new stage, fresh optimiser moments
        (train.py: reset_opt_for_new_lod). ``constant`` changes nothing."""
        for opt, o in ((self.opt_g, self.spec.optim_g), (self.opt_d, self.spec.optim_d)):
            for group in opt.param_groups:
                group["lr"] = o.lr * phase.lr_scale
        if phase.resolution is not None:
            for net in (self.G, self.D, self.ema.module if self.ema else None):
                for m in (net.modules() if net is not None else ()):
                    if hasattr(m, "set_phase") and m is not self:
                        m.set_phase(phase.resolution, phase.alpha)
            if self.phase_name is not None and phase.name != self.phase_name:
                self.opt_g.state.clear()
                self.opt_d.state.clear()
        if phase.batch_size:
            self.batch_size = phase.batch_size
        self.phase, self.phase_name = phase, phase.name

    # ------------------------------------------------------------------- state
    def state_dict(self) -> dict:
        return {"G": self.G.state_dict(), "D": self.D.state_dict(), "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "ema": self.ema.state_dict() if self.ema else None,
                "g_steps": self.g_steps, "phase_name": self.phase_name, "penalty_state": self.penalty_state,
                "ada": self.ada.state_dict() if self.ada else None}

    def load_state_dict(self, state: dict) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema:
            self.ema.load_state_dict(state["ema"])
        self.g_steps = int(state["g_steps"])
        self.phase_name = state.get("phase_name")  # so resuming inside a stage keeps the optimiser moments
        for name, saved in (state.get("penalty_state") or {}).items():  # absent in checkpoints before LeCam
            if name in self.penalty_state:
                self.penalty_state[name].update(saved)
        if self.ada and state.get("ada"):
            self.ada.load_state_dict(state["ada"])
