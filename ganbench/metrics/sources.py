"""Inputs as objects: images, a generator, or precomputed statistics. Each yields uint8 batches (rows of it, for
a shard), says what it is (provenance) and, for images, names its content (the cache key).

``as_source`` turns whatever a user hands ``evaluate`` into one: an ImageSet, a uint8 tensor or array,
a float tensor in [-1, 1], a dataset name (``NAME``, ``NAME:SPLIT``), ``folder:``/``arrays:`` paths, a bare
folder or array file, a pytorch-fid/clean-fid ``.npz`` of mu/sigma, or a generator callable.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ..config import SAMPLE_BATCH_SIZE, EvalProtocol
from ..data import DATASETS, ImageSet, array_image_set, get_dataset
from ..errors import BadInput
from ..zoo.sampler import draw_inputs, num_classes_of, sample
from . import cache


class ImageSource:
    """The first ``n`` images of an ImageSet (and their labels, when it has them)."""

    kind = "images"

    def __init__(self, images: ImageSet, n: int):
        self.images, self.n = images, int(n)
        self._key: str | None = None

    def batches(self, batch_size: int, rows: tuple[int, int] | None = None) -> Iterator[torch.Tensor]:
        start, end = rows or (0, self.n)
        for i in range(start, end, batch_size):
            yield self.images.uint8(slice(i, min(i + batch_size, end)))

    def labels(self) -> torch.Tensor | None:
        return self.images.labels(slice(0, self.n)) if self.images.num_classes else None

    def content_key(self) -> str:
        """SHA-256 of the images' decoded pixels (shape and bytes), computed once: a cache entry stands for
        exactly these pixels, whatever path or name they came under."""
        if self._key is None:
            h = hashlib.sha256(b"ganbench-images-v1")
            h.update(repr((self.n, self.images.channels, self.images.resolution)).encode())
            for batch in self.batches(4096):
                h.update(batch.contiguous().numpy().tobytes())
            self._key = h.hexdigest()
        return self._key

    def describe(self) -> dict:
        return {**self.images.describe(), "kind": "images", "n": self.n}


class GeneratorSource:
    """``n`` samples of a generator (module or callable) through ``zoo.sampler`` with ``seed``; ``transform``
    maps the uint8 samples before features (e.g. a training view's ``to_native`` crop)."""

    kind = "generator"

    def __init__(self, G: Callable, n: int, seed: int = 0, z_dim: int | None = None,
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 batch_size: int = SAMPLE_BATCH_SIZE):
        self.z_dim = int(z_dim or getattr(G, "z_dim", 0) or 0)
        if not self.z_dim:
            raise BadInput("a generator callable needs its latent size: set .z_dim on it, or pass z_dim= "
                           "(to evaluate: options=EvaluateOptions(z_dim=N))")
        self.G, self.n, self.seed, self.transform, self.batch_size = G, int(n), seed, transform, batch_size

    def batches(self, batch_size: int, rows: tuple[int, int] | None = None) -> Iterator[torch.Tensor]:
        start, end = rows or (0, self.n)
        for i in range(start, end, self.batch_size):
            imgs = sample(self.G, self.n, self.seed, self.batch_size, rows=(i, min(i + self.batch_size, end)),
                          z_dim=self.z_dim).images
            if self.transform is not None:
                imgs = self.transform(imgs)
            yield from (imgs[j:j + batch_size] for j in range(0, len(imgs), batch_size))

    def labels(self) -> torch.Tensor | None:
        return draw_inputs(self.G, self.n, self.seed, self.batch_size, self.z_dim).c

    def content_key(self) -> None:
        return None  # weights are not hashed here: generator features are never cached

    def describe(self) -> dict:
        return {"kind": "generator", "z_dim": self.z_dim, "n": self.n, "num_classes": num_classes_of(self.G),
                "latents": f"zoo.sampler seed {self.seed}"}


class StatsSource:
    """FID statistics (mu, sigma) of pool3 features from a pytorch-fid / clean-fid ``.npz``: the reference only."""

    kind = "statistics"

    def __init__(self, mu: torch.Tensor, sigma: torch.Tensor, path: str):
        self.mu, self.sigma, self.path, self.n = mu, sigma, path, 0

    def describe(self) -> dict:
        return {"kind": "statistics", "path": self.path}


Source = ImageSource | GeneratorSource | StatsSource


def _image_set(obj: Any, protocol: EvalProtocol, what: str, value_range,
               resize: int | None = None) -> ImageSet | StatsSource | Callable:
    if isinstance(obj, ImageSet):
        return obj
    if torch.is_tensor(obj) or isinstance(obj, np.ndarray):
        a = obj.detach().cpu().numpy() if torch.is_tensor(obj) else obj
        rng = None if a.dtype == np.uint8 else (value_range or (-1.0, 1.0))
        return array_image_set(a, what, rng, source="memory")
    if isinstance(obj, (str, Path)):
        text = str(obj)
        name, sep, split = text.partition(":")
        if text in DATASETS:
            return get_dataset(text, protocol.ref_split)
        if sep and name in DATASETS:
            return get_dataset(name, split)
        path = Path(text).expanduser()
        if cache.is_stats_file(path):
            mu, sigma = cache.load_stats(path)
            return StatsSource(mu, sigma, str(path))
        if path.is_dir():
            return get_dataset(f"folder:{path}", resize=resize)
        if path.is_file() and path.suffix in (".npy", ".npz"):
            return get_dataset(f"arrays:{path}", value_range=value_range)
        if not sep and not path.exists() and ("/" in text or path.suffix):
            raise BadInput(f"{what}: {text} does not exist (no such file or folder)")
        if name == "folder":
            return get_dataset(text, resize=resize)
        if name == "arrays":
            return get_dataset(text, value_range=value_range)
        return get_dataset(text, protocol.ref_split)  # a clear error
    if callable(obj):
        return obj
    raise BadInput(f"{what}: cannot evaluate a {type(obj).__name__}; give a dataset name, a folder, an array file, "
                   "a tensor or a generator callable")


def as_source(obj: Any, protocol: EvalProtocol, what: str, n: int | None, z_dim: int | None = None,
              value_range: tuple[float, float] | None = None, seed: int = 0, resize: int | None = None) -> Source:
    """``obj`` as a source of ``n`` images (an image set's whole length when ``n`` is None; a generator's
    ``protocol.num_samples``). ``value_range``: of float arrays; ``resize``: folders of images to NxN."""
    if isinstance(obj, (ImageSource, GeneratorSource, StatsSource)):
        return obj
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 2):
        raise BadInput(f"{what}: the number of images must be an integer >= 2, got {n!r}")
    got = _image_set(obj, protocol, what, value_range, resize)
    if isinstance(got, StatsSource):
        return got
    if isinstance(got, ImageSet):
        count = len(got) if n is None else n
        if count > len(got):
            raise BadInput(f"{what}: asked for {count} images but it holds {len(got)}; lower --num-samples")
        if count < 2:
            raise BadInput(f"{what}: needs at least 2 images, got {count}")
        return ImageSource(got, count)
    return GeneratorSource(got, n or protocol.num_samples, seed, z_dim)
