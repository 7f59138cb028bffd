"""Per-image features, computed once per image set and shared by every metric.

A feature is registered by name with the network that computes it (``metrics.networks``: Inception's
``pool3`` and ``logits``, VGG16's ``vgg16``, DINOv2's ``dinov2``, ...); a feature read from an inner layer
(sFID's ``mixed_6/conv``) names that layer and is taken by a forward hook during the same pass. Networks are
built on first use and kept. ``extract`` runs every batch through every network a requested feature needs, once.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterable, Iterator, Sequence

import torch

from ..data import ImageSet
from ..devices import resolve_device
from ..errors import BadInput
from ..progress import bar as progress_bar
from . import inception as inception_net
from . import weights as inception_weights
from .inception import Inception
from .moments import Moments
from .networks import NETWORKS
from .networks.base import FEATURES, Feature, NetOptions, layer_feature  # noqa: F401  (re-exported)
from .networks.inception import LoadedInception
from .weights import InceptionWeights

#: One extractor: uint8 batch ``(B, C, H, W)`` on its device -> named float features ``(B, D)``.
Extractor = Callable[[torch.Tensor], dict[str, torch.Tensor]]


class Networks:
    """The feature networks of one evaluation, each built on first use from the registry (``metrics.networks``).

    ``weights``/``inception``: Inception's resolved weights or a prebuilt model to reuse; ``files``: local weight
    files by network (``--weights NAME=PATH``)."""

    def __init__(self, weights: InceptionWeights | None = None, resize_mode: str = "tf1", device=None,
                 inception: Inception | None = None, vgg16_weights: str | os.PathLike | None = None,
                 files: dict[str, str] | None = None):
        self._weights = inception.weights if inception is not None and weights is None else weights
        self.resize_mode = resize_mode
        self.device = resolve_device(device)
        self.files = dict(files or {})
        if vgg16_weights:
            self.files.setdefault("vgg16", str(vgg16_weights))
        self._loaded: dict[str, Any] = {}
        if inception is not None:
            if inception.resize_mode != resize_mode:
                raise BadInput(f"the given model resizes with {inception.resize_mode!r} but the protocol says "
                               f"{resize_mode!r}")
            self._loaded["inception"] = LoadedInception(inception)

    @property
    def weights(self) -> InceptionWeights:
        """The Inception weights (resolved on first use: the resolution may try a download)."""
        if self._weights is None:  # looked up on the module, so that tests can stand in for it
            self._weights = inception_weights.resolve_weights(self.files.get("inception"))
        return self._weights

    def get(self, name: str):
        """The built network ``name`` (a ``networks.base.Loaded``)."""
        if name not in self._loaded:
            if name == "inception":
                self._loaded[name] = LoadedInception(inception_net.build_inception(self.weights, self.resize_mode,
                                                                                   self.device))
            else:
                options = NetOptions(self.device, self.resize_mode, self.files)
                self._loaded[name] = NETWORKS.get(name).load(options)
        return self._loaded[name]

    def inception(self) -> Inception:
        return self.get("inception").model

    def signature(self, names: Sequence[str]) -> dict[str, Any]:
        """What keys features ``names`` in the cache: each network's weights, preprocessing and version."""
        return {net: self.get(net).signature() for net in networks_of(names)}


def networks_of(names: Sequence[str]) -> list[str]:
    """The networks features ``names`` come from, in a stable order."""
    return sorted({FEATURES.get(n).network for n in names})


def extractor(names: Sequence[str], nets: Networks) -> Extractor:
    """One callable computing the features ``names`` of a uint8 batch, each network run once (inner-layer features
    read by hooks during that run)."""
    feats = [FEATURES.get(n) for n in names]
    wanted = {f.name for f in feats}

    def run(x: torch.Tensor) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for net_name in networks_of(names):
            net = nets.get(net_name)
            handles = []
            inner: dict[str, list[torch.Tensor]] = {}  # a net may run the batch in parts (Inception on a CPU)
            for f in (f for f in feats if f.layer and f.network == net_name):
                def hook(_m, _i, output, f=f):
                    inner.setdefault(f.name, []).append(f.transform(output) if f.transform else output.flatten(1))
                handles.append(net.module.get_submodule(f.layer).register_forward_hook(hook))
            try:
                got = net(x, wanted)
            finally:
                for h in handles:
                    h.remove()
            out.update({k: torch.cat(v) for k, v in inner.items()})
            out.update({k: v for k, v in got.items() if k in wanted})
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
            desc: str = "features", allow_tf32: bool = False,
            moments: dict[str, Moments] | None = None,
            after_batch: Callable[[int, dict[str, list[torch.Tensor]], dict[str, Moments]], None] | None = None,
            ) -> dict[str, torch.Tensor]:
    """``run`` on every uint8 batch; returns CPU float32 tensors ``(n, D)`` by feature name, checked finite.
    The features named in ``moments`` are accumulated there instead of kept (``Moments``). ``after_batch(done,
    rows, moments)``: called after each batch with the rows extracted so far (a ``journal.Journal`` saves them)."""
    out: dict[str, list[torch.Tensor]] = {}
    moments = {} if moments is None else moments
    done = 0
    with torch.inference_mode(), exact_cuda(allow_tf32), progress_bar(n, desc, "img", progress, leave=False,
                                                                      file=None) as bar:
        for batch in batches:
            if batch.ndim != 4 or batch.shape[1] not in (1, 3):
                raise BadInput(f"{desc}: images must be (N, 1 or 3, H, W) with 1 (grayscale) or 3 (RGB) channels, "
                               f"got shape {tuple(batch.shape)}")
            for name, f in run(batch.to(device, non_blocking=True)).items():
                if name in moments:
                    moments[name].add(f.float())
                else:
                    out.setdefault(name, []).append(f.float())
            bar.update(batch.shape[0])
            done += batch.shape[0]
            if after_batch is not None:
                after_batch(done, out, moments)
    feats = {k: torch.cat(v).cpu() for k, v in out.items()}
    for name, f in [*feats.items(), *((k, m.sum) for k, m in moments.items() if m.sum is not None)]:
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
    nets = Networks(inception_weights.resolve_weights(weights) if model is None else None, resize_mode, device,
                    inception=model)
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
