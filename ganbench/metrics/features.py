"""Per-image features of an image source, computed once and shared by every metric.

A source is an :class:`~ganbench.data.ImageSet` (its first ``n`` images) or a generator
callable ``z -> images in [-1, 1]`` fed latents from a seeded ``torch.Generator``. Batches go
through every requested extractor in one pass: Inception pool3 + logits and, for
precision/recall in VGG16 space, torch-fidelity's VGG16 fc2 features.
"""

from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterator

import torch
from tqdm import tqdm

from ..data import ImageSet
from ..errors import BadInput, MissingAsset
from .inception import Inception, build_inception
from .weights import resolve_weights

#: One extractor: uint8 batch ``(B, C, H, W)`` on its device -> named float features ``(B, D)``.
Extractor = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def default_device(device: str | torch.device | None = None) -> torch.device:
    """The given device, else CUDA when present, else CPU."""
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> uint8 in [0, 255] (the mapping of ``torchvision.utils.save_image``)."""
    if images.dtype == torch.uint8:
        return images
    if not torch.isfinite(images).all():
        raise BadInput("the generator produced NaN/Inf pixels; the model has diverged, evaluate another checkpoint")
    return images.float().add(1).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


def imageset_batches(images: ImageSet, n: int, batch_size: int) -> Iterator[torch.Tensor]:
    """The first ``n`` images of ``images``, ``batch_size`` at a time, uint8 ``(B, C, H, W)``."""
    for start in range(0, n, batch_size):
        yield images.uint8(slice(start, min(start + batch_size, n)))


def generator_batches(generator: Callable[[torch.Tensor], torch.Tensor], n: int, batch_size: int, z_dim: int,
                      seed: int, device: torch.device) -> Iterator[torch.Tensor]:
    """``n`` samples of ``generator`` from standard-normal latents drawn on the CPU from ``torch.Generator(seed)``.

    Latents are drawn on the CPU so the same seed gives the same latents on every device.
    """
    rng = torch.Generator().manual_seed(seed)
    for start in range(0, n, batch_size):
        z = torch.randn(min(batch_size, n - start), z_dim, generator=rng).to(device)
        with torch.inference_mode():
            yield to_uint8(generator(z))


def inception_extractor(model: Inception, logits: bool = True) -> Extractor:
    def run(x: torch.Tensor) -> dict[str, torch.Tensor]:
        pool3, lg = model(x, logits=logits)
        return {"pool3": pool3} if lg is None else {"pool3": pool3, "logits": lg}
    return run


def vgg16_extractor(device: torch.device, weights: str | os.PathLike | None = None) -> Extractor:
    """torch-fidelity's VGG16 fc2 features (the canonical space of improved precision/recall)."""
    from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16

    try:
        net = FeatureExtractorVGG16("vgg16", ["fc2_relu"], feature_extractor_weights_path=weights)
    except (OSError, RuntimeError) as e:
        raise MissingAsset(f"VGG16 weights unavailable ({str(e).splitlines()[0]}); download them once with "
                           "internet access, or use the default pr_features='inception-pool3'") from None
    net = net.to(device)

    def run(x: torch.Tensor) -> dict[str, torch.Tensor]:
        (f,) = net(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x)
        return {"vgg16": f}
    return run


@contextlib.contextmanager
def exact_cuda(allow_tf32: bool = False):
    """On CUDA: cuDNN with autotuning, TF32 only if asked for (TF32 changes the numbers)."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = allow_tf32
    try:
        with torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False, allow_tf32=allow_tf32):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul


def extract(batches: Iterator[torch.Tensor], n: int, extractors: dict[str, Extractor], device: torch.device,
            progress: bool = True, desc: str = "features", allow_tf32: bool = False) -> dict[str, torch.Tensor]:
    """Run every extractor on every batch; returns CPU float32 tensors ``(n, D)`` by feature name."""
    out: dict[str, list[torch.Tensor]] = {}
    with torch.inference_mode(), exact_cuda(allow_tf32), tqdm(total=n, desc=desc, unit="img", disable=not progress,
                                                              leave=False, file=None) as bar:
        for batch in batches:
            if batch.ndim != 4 or batch.shape[1] not in (1, 3):
                raise BadInput(f"{desc}: images must be (N, 1 or 3, H, W) with 1 (grayscale) or 3 (RGB) channels, "
                               f"got shape {tuple(batch.shape)}")
            batch = batch.to(device, non_blocking=True)
            for extractor in extractors.values():
                for name, f in extractor(batch).items():
                    out.setdefault(name, []).append(f.float())
            bar.update(batch.shape[0])
    feats = {k: torch.cat(v).cpu() for k, v in out.items()}
    for name, f in feats.items():
        if not torch.isfinite(f).all():
            raise BadInput(f"{desc}: {name} features contain NaN/Inf; check the images")
    return feats


def inception_features(images: ImageSet | torch.Tensor, n: int | None = None, weights: str | None = None,
                       resize_mode: str = "tf1", batch_size: int = 64, device: str | torch.device | None = None,
                       progress: bool = True, model: Inception | None = None) -> dict[str, torch.Tensor]:
    """pool3 features ``(N, 2048)`` (and ``logits`` ``(N, 1008)`` when the weights have a head) of uint8 images."""
    dev = default_device(device)
    model = model or build_inception(resolve_weights(weights), resize_mode, dev)
    if torch.is_tensor(images):
        if images.dtype != torch.uint8:
            raise BadInput(f"inception_features takes uint8 images, got {images.dtype}; convert with to_uint8()")
        n = len(images) if n is None else n
        batches = (images[i:i + batch_size] for i in range(0, n, batch_size))
    else:
        n = len(images) if n is None else n
        batches = imageset_batches(images, n, batch_size)
    return extract(batches, n, {"inception": inception_extractor(model)}, dev, progress)
