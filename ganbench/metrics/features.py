"""Per-image features, computed once per image set and shared by every metric.

A feature is registered by name with the network that computes it: ``pool3`` and ``logits`` come
out of the Inception forward itself; a feature read from an inner layer (sFID's ``mixed_6/conv``)
names that layer and is taken by a forward hook during the same pass; ``vgg16`` is torch-fidelity's
VGG16 fc2. Networks are built on first use and kept. ``extract`` runs every batch through every
network that a requested feature needs, once.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import torch
from tqdm import tqdm

from ..data import ImageSet
from ..devices import resolve_device
from ..errors import BadInput, MissingAsset
from ..registry import Registry
from .inception import Inception, build_inception
from .weights import InceptionWeights, resolve_weights

#: One extractor: uint8 batch ``(B, C, H, W)`` on its device -> named float features ``(B, D)``.
Extractor = Callable[[torch.Tensor], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class Feature:
    name: str
    network: str  # "inception" | "vgg16"
    layer: str | None = None  # a submodule of the network (torch-fidelity's names) read by a hook; None: its outputs
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None  # layer output -> (B, D)
    needs_head: bool = False  # Inception's classifier (absent from pool3-only weights)
    description: str = ""


FEATURES: Registry[Feature] = Registry("feature")
FEATURES.add("pool3", Feature("pool3", "inception", description="Inception-v3 pool3, 2048-d"))
FEATURES.add("logits", Feature("logits", "inception", needs_head=True,
                               description="Inception-v3 logits without the fc bias, 1008-d (torch-fidelity's "
                                           "logits_unbiased)"))
FEATURES.add("vgg16", Feature("vgg16", "vgg16", description="VGG16 fc2 after ReLU, 4096-d (torch-fidelity's fc2_relu)"))


def layer_feature(name: str, network: str, layer: str, description: str) -> Callable:
    """Register the decorated ``transform(layer_output) -> (B, D)`` as feature ``name`` read at ``layer``."""
    def deco(transform: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
        FEATURES.add(name, Feature(name, network, layer, transform, description=description))
        return transform
    return deco


class Networks:
    """The feature networks of one evaluation, built on first use: Inception (given weights, resize mode) and VGG16."""

    def __init__(self, weights: InceptionWeights | None = None, resize_mode: str = "tf1", device=None,
                 inception: Inception | None = None, vgg16_weights: str | os.PathLike | None = None):
        self._weights = inception.weights if inception is not None and weights is None else weights
        self.resize_mode = resize_mode
        self.device = resolve_device(device)
        self._inception = inception
        self._vgg16 = None
        self.vgg16_weights = vgg16_weights
        if inception is not None and inception.resize_mode != resize_mode:
            raise BadInput(f"the given model resizes with {inception.resize_mode!r} but the protocol says "
                           f"{resize_mode!r}")

    @property
    def weights(self) -> InceptionWeights:
        """The Inception weights (resolved on first use: the resolution may try a download)."""
        if self._weights is None:
            self._weights = resolve_weights(None)
        return self._weights

    def inception(self) -> Inception:
        if self._inception is None:
            self._inception = build_inception(self.weights, self.resize_mode, self.device)
        return self._inception

    def vgg16(self) -> torch.nn.Module:
        if self._vgg16 is None:
            from torch_fidelity.feature_extractor_vgg16 import FeatureExtractorVGG16

            try:
                net = FeatureExtractorVGG16("vgg16", ["fc2_relu"], feature_extractor_weights_path=self.vgg16_weights)
            except (OSError, RuntimeError) as e:
                raise MissingAsset(f"VGG16 weights unavailable ({str(e).splitlines()[0]}); download them once with "
                                   "internet access, or use the default pr_features='inception-pool3'") from None
            self._vgg16 = net.to(self.device)
        return self._vgg16


def extractor(names: Sequence[str], nets: Networks) -> Extractor:
    """One callable computing the features ``names`` of a uint8 batch, each network run once."""
    feats = [FEATURES.get(n) for n in names]
    wanted = {f.name for f in feats}
    hooked = [f for f in feats if f.layer]

    def run(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        if any(f.network == "inception" for f in feats):
            model = nets.inception()
            handles = []
            for f in (f for f in hooked if f.network == "inception"):
                def hook(_m, _i, output, f=f):
                    out[f.name] = f.transform(output) if f.transform else output.flatten(1)
                handles.append(model.net.get_submodule(f.layer).register_forward_hook(hook))
            try:
                pool3, logits = model(x, logits="logits" in wanted)
            finally:
                for h in handles:
                    h.remove()
            if "pool3" in wanted:
                out["pool3"] = pool3
            if "logits" in wanted and logits is not None:
                out["logits"] = logits
        if "vgg16" in wanted:
            (f,) = nets.vgg16()(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x)
            out["vgg16"] = f
        if "pixels" in wanted:
            out["pixels"] = x.float().flatten(1)
        return out
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


def extract(batches: Iterable[torch.Tensor], n: int, run: Extractor, device: torch.device, progress: bool = True,
            desc: str = "features", allow_tf32: bool = False) -> dict[str, torch.Tensor]:
    """``run`` on every uint8 batch; returns CPU float32 tensors ``(n, D)`` by feature name, checked finite."""
    out: dict[str, list[torch.Tensor]] = {}
    with torch.inference_mode(), exact_cuda(allow_tf32), tqdm(total=n, desc=desc, unit="img", disable=not progress,
                                                              leave=False, file=None) as bar:
        for batch in batches:
            if batch.ndim != 4 or batch.shape[1] not in (1, 3):
                raise BadInput(f"{desc}: images must be (N, 1 or 3, H, W) with 1 (grayscale) or 3 (RGB) channels, "
                               f"got shape {tuple(batch.shape)}")
            for name, f in run(batch.to(device, non_blocking=True)).items():
                out.setdefault(name, []).append(f.float())
            bar.update(batch.shape[0])
    feats = {k: torch.cat(v).cpu() for k, v in out.items()}
    for name, f in feats.items():
        if not torch.isfinite(f).all():
            raise BadInput(f"{desc}: {name} features contain NaN/Inf; check the images")
    return feats


def imageset_batches(images: ImageSet, n: int, batch_size: int, start: int = 0) -> Iterator[torch.Tensor]:
    """Images ``[start, n)`` of ``images``, ``batch_size`` at a time, uint8 ``(B, C, H, W)``."""
    for i in range(start, n, batch_size):
        yield images.uint8(slice(i, min(i + batch_size, n)))


def inception_features(images: ImageSet | torch.Tensor, n: int | None = None, weights: str | None = None,
                       resize_mode: str = "tf1", batch_size: int = 64, device: str | torch.device | None = None,
                       progress: bool = True, model: Inception | None = None) -> dict[str, torch.Tensor]:
    """pool3 features ``(N, 2048)`` (and ``logits`` ``(N, 1008)`` when the weights have a head) of uint8 images."""
    nets = Networks(resolve_weights(weights) if model is None else None, resize_mode, device, inception=model)
    names = ("pool3", "logits") if nets.inception().has_head else ("pool3",)
    if torch.is_tensor(images):
        if images.dtype != torch.uint8:
            raise BadInput(f"inception_features takes uint8 images, got {images.dtype}; convert with to_uint8()")
        n = len(images) if n is None else n
        batches = (images[i:i + batch_size] for i in range(0, n, batch_size))
    else:
        n = len(images) if n is None else n
        batches = imageset_batches(images, n, batch_size)
    return extract(batches, n, extractor(names, nets), nets.device, progress)
