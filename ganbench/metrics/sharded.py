"""Evaluation split over the ranks of a torch.distributed group (``torchrun``): each rank generates
and extracts its shard of the samples (and of the reference, on a cache miss); the features are
gathered in rank order and every rank computes the same metrics from the whole sets.

The samples are exactly those of ``train.sample.sample_images(G, n, seed)``: every rank draws the
whole latent sequence (cheap) and runs G only on its rows. In a single process it is a plain
evaluation of those samples.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Sequence

import torch
from torch import nn

from ..config import DEFAULT_PROTOCOL, SAMPLE_BATCH_SIZE, EvalProtocol
from ..data import ImageSet
from ..errors import BadInput, MissingAsset
from ..train import distributed
from ..train.sample import to_uint8
from . import cache
from .evaluate import SPACES, Context, Side, compute_metrics, requested_metrics
from .features import default_device, extract, imageset_batches, inception_extractor, vgg16_extractor
from .inception import EXTRACTOR_VERSION, Inception, build_inception
from .weights import resolve_weights


@torch.no_grad()
def sample_shard(G: nn.Module, n: int, seed: int, start: int, end: int, batch_size: int = SAMPLE_BATCH_SIZE,
                 device=None) -> torch.Tensor:
    """Rows ``[start, end)`` of ``sample_images(G, n, seed, batch_size)``: uint8 ``(end - start, C, H, W)`` on CPU."""
    device = torch.device(device) if device is not None else next(G.parameters()).device
    gen = torch.Generator(device=device).manual_seed(seed)
    z = torch.cat([torch.randn(min(batch_size, n - i), G.z_dim, generator=gen, device=device)
                   for i in range(0, n, batch_size)])[start:end]
    was_training = G.training
    G.eval()
    try:
        out = [G(z[i:i + batch_size]).float().cpu() for i in range(0, len(z), batch_size)]
    finally:
        G.train(was_training)
    return to_uint8(torch.cat(out)) if out else torch.empty(0, dtype=torch.uint8)


def _gathered(local: dict[str, torch.Tensor], d: distributed.Dist) -> dict[str, torch.Tensor]:
    return {k: distributed.gather_rows(v, d) for k, v in sorted(local.items())}


def sharded_evaluate(G: nn.Module, num_samples: int, seed: int, reference: ImageSet,
                     metrics: Sequence[str] | None = None, protocol: EvalProtocol | None = None, device=None,
                     progress: bool = True, model: Inception | None = None,
                     to_native: Callable[[torch.Tensor], torch.Tensor] | None = None) -> dict:
    """Metrics of ``num_samples`` samples of ``G`` (latents seeded by ``seed``) against ``reference``.

    ``to_native`` maps generated images to the reference's resolution (e.g. ``view.to_native``).
    Returns ``{"metrics", "unavailable", "provenance"}`` like ``metrics.evaluate``, on every rank.
    """
    t0 = time.perf_counter()
    d = distributed.current()
    p = protocol or DEFAULT_PROTOCOL
    names = requested_metrics(metrics, p)
    rn = min(p.ref_samples or num_samples, len(reference))
    if num_samples < 2 or rn < 2:
        raise BadInput(f"sharded evaluation needs at least 2 samples and 2 reference images, got {num_samples}, {rn}")
    dev = distributed.rank_device(device, d) if d.enabled else default_device(device)
    weights = resolve_weights(None)
    if not weights.has_head and set(names) <= {"is", "is_inf"}:
        raise MissingAsset("IS needs Inception weights with a classifier head; see `ganbench metrics --help`")
    net = model or build_inception(weights, p.resize_mode, dev)
    spaces = ("inception", "vgg16") if p.pr_features == "vgg16" and {"pr", "dc"} & set(names) else ("inception",)
    ex = {"inception": inception_extractor(net)}
    if "vgg16" in spaces:
        ex["vgg16"] = vgg16_extractor(dev)
    show = progress and d.is_main

    # samples: this rank's shard, then everyone's
    start, end = distributed.shard(num_samples, d.rank, d.world_size)
    imgs = sample_shard(G, num_samples, seed, start, end, device=next(G.parameters()).device)
    if to_native is not None:
        imgs = to_native(imgs)
    batches = (imgs[i:i + p.feature_batch_size] for i in range(0, len(imgs), p.feature_batch_size))
    samples = _gathered(extract(batches, len(imgs), ex, dev, show, "samples features", p.allow_tf32), d)

    # reference: the cache, else sharded extraction; rank 0 writes the cache entry
    key = cache.reference_key(reference.key, rn, p.resize_mode, weights.sha256, spaces)
    ref = cache.load(key)
    hit = ref is not None
    if not hit:
        r0, r1 = distributed.shard(rn, d.rank, d.world_size)
        part = reference.uint8(slice(r0, r1))
        batches = (part[i:i + p.feature_batch_size] for i in range(0, len(part), p.feature_batch_size))
        ref = _gathered(extract(batches, len(part), ex, dev, show, "reference features", p.allow_tf32), d)
        if d.is_main:
            cache.save(key, ref, {"dataset_key": reference.key, "n": rn, "resize_mode": p.resize_mode,
                                  "weights_sha256": weights.sha256, "extractor": EXTRACTOR_VERSION,
                                  "spaces": list(spaces), "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
    distributed.barrier(d)

    ctx = Context(Side(samples, n=num_samples), Side(ref, n=rn), p, weights.has_head, weights.path)
    values, unavailable = compute_metrics(names, ctx)
    provenance = {
        "device": str(dev), "world_size": d.world_size, "dist_backend": d.backend, "weights_sha256": weights.sha256,
        "weights_path": weights.path, "extractor": EXTRACTOR_VERSION, "resize_mode": p.resize_mode,
        "feature_spaces": {m: SPACES[m](p) for m in names}, "num_samples": num_samples, "ref_samples": rn,
        "samples": {"kind": "generator", "z_dim": int(G.z_dim), "latents": f"sample_images seed {seed}"},
        "reference": {**reference.describe(), "kind": "images", "cache_key": key, "cache_hit": hit},
        "protocol": dataclasses.asdict(p), "seconds": round(time.perf_counter() - t0, 3),
    }
    return {"metrics": values, "unavailable": unavailable, "provenance": provenance}
