"""Small stand-ins for the trainer and the metrics engine, injected through ``Backend``.

They exercise the runner's orchestration (skip, resume, divergence, store, tables) in
milliseconds; the real train + evaluate path is tested in test_end_to_end.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from ganbench.bench.runner import Backend
from ganbench.config import ModelSpec
from ganbench.data import TensorImageSet
from ganbench.errors import BadInput
from ganbench.zoo.sampler import Samples


@dataclass
class FakeTrainResult:
    status: str
    steps: int
    kimg: float
    wall_time_s: float
    images_per_s: float
    peak_memory_mb: float
    out_dir: str
    checkpoint: str
    losses: dict = field(default_factory=dict)
    reason: str = ""
    device: str = "cpu"


@dataclass
class Calls:
    train: list = field(default_factory=list)
    evaluate: list = field(default_factory=list)


def fake_backend(calls: Calls, diverge: tuple[str, ...] = (), crash: tuple[str, ...] = ()) -> Backend:
    def get_dataset(name, split="train", root=None, download=True, **kw):
        if ":" in name:  # folder:/arrays: samples are read for real
            from ganbench.data import get_dataset as real
            return real(name, split, root=root, **kw)
        g = torch.Generator().manual_seed(0 if split == "train" else 1)
        images = torch.randint(0, 256, (40, 1, 28, 28), generator=g, dtype=torch.uint8)
        return TensorImageSet(images, name, split, "fake")

    baselines = {"dcgan": ModelSpec(name="dcgan"), "wgan": ModelSpec(name="wgan", loss="wgan"),
                 "lsgan": ModelSpec(name="lsgan", loss="lsgan")}

    def load_baseline(name):
        if name not in baselines:
            raise BadInput(f"unknown baseline {name}")
        return baselines[name]

    def train(spec, dataset, out_dir, kimg=None, seed=0, device=None, resume=True, progress=True, **kw):
        calls.train.append((spec.name, seed, kimg))
        if spec.name in crash:
            raise RuntimeError("boom")
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        ck = Path(out_dir) / "checkpoint.pt"
        ck.write_text(f"{spec.hash()} {seed} {kimg}")
        steps = int(kimg * 1000 / spec.batch_size)
        (Path(out_dir) / "train_log.csv").write_text(
            "step,kimg,d_loss,g_loss\n" + "".join(f"{s},{s * spec.batch_size / 1000},{1 / s},{s / 10}\n"
                                                  for s in range(1, steps + 1)))
        status = "diverged" if spec.name in diverge else "ok"
        return FakeTrainResult(status, int(kimg * 1000 / spec.batch_size), kimg, 1.0, 100.0, 0.0, out_dir, str(ck),
                               reason="loss is NaN at step 3" if status != "ok" else "")

    def load_generator(path, use_ema=True, device=None):
        return Path(path).read_text() if Path(path).is_file() else ""

    def sample(G, n, seed, device=None, **kw):
        g = torch.Generator().manual_seed(hash(G) % 1000 + seed)
        return Samples(torch.randint(0, 256, (n, 1, 32, 32), generator=g, dtype=torch.uint8), None)

    def evaluate(samples, reference, metrics=("fid",), num_samples=None, device=None, protocol=None,
                 progress=True, **kw):
        if not torch.is_tensor(samples):  # an ImageSet (the real-data row)
            samples = samples.uint8(slice(None))
        calls.evaluate.append((tuple(metrics), int(samples.shape[0]), reference.key))
        fid = float((samples.float().mean() - reference.uint8(slice(0, 20)).float().mean()).abs())
        out = {"fid": fid}
        if "kid" in metrics:
            out.update(kid_mean=fid / 1000, kid_std=0.0)
        if "pr" in metrics:  # in [0, 1], falling as the fake FID grows
            out.update(precision=1 / (1 + fid), recall=1 / (1 + 2 * fid))
        if "dc" in metrics:
            out.update(density=1.2 / (1 + fid), coverage=1 / (1 + 3 * fid))
        return {"metrics": out, "unavailable": {}, "provenance": {"weights_sha256": "f" * 64, "resize_mode": "tf1",
                                                                   "device": "cpu"}}

    return Backend(get_dataset=get_dataset, load_baseline=load_baseline,
                   list_baselines=lambda: baselines, train=train, load_generator=load_generator,
                   sample=sample, evaluate=evaluate)
