"""Dataset registry: name -> source. ``get_dataset`` is the one entry point.

Built-in names (``fashion-mnist``, ``mnist``, ``cifar10``) are registered with
``@register``; ``folder:PATH`` and ``arrays:PATH`` are parametrised by a path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import BadInput
from ..registry import Registry
from .base import ImageSet


class Source(Protocol):
    name: str
    description: str
    splits: tuple[str, ...]

    def locate(self, root: str | None = None) -> Path | None:
        """Where the files are, without downloading; None when not found."""

    def searched(self, root: str | None = None) -> list[str]:
        """Every place ``locate`` looks, in order (for error messages and `ganbench datasets`)."""

    def load(self, split: str, root: str | None = None, download: bool = True) -> ImageSet: ...


DATASETS: Registry[Source] = Registry("dataset")
PARAMETRISED: Registry[Callable[..., ImageSet]] = Registry("dataset kind")


def register(source: Source) -> Source:
    """Register a named dataset source (``fashion-mnist``, ...)."""
    return DATASETS.add(source.name, source)


def register_prefix(prefix: str) -> Callable:
    """Register the decorated loader as the dataset kind ``PREFIX:PATH`` (``folder:``, ``arrays:``)."""
    return PARAMETRISED.register(prefix)


def data_root(root: str | os.PathLike | None) -> str | None:
    """The user's data root: the argument, else ``$GANBENCH_DATA``, else None."""
    return str(root) if root else os.environ.get("GANBENCH_DATA") or None


def known_names() -> list[str]:
    return [*DATASETS, *(f"{p}:PATH" for p in PARAMETRISED)]


@dataclass(frozen=True)
class LoadOptions:
    """Options that only some dataset kinds take; recorded with the dataset."""

    resize: int | None = None  # folder: bring mixed sizes to this resolution
    value_range: tuple[float, float] | None = None  # arrays: range of float data, e.g. (-1, 1)


def get_dataset(name: str, split: str = "train", root: str | os.PathLike | None = None,
                download: bool = True, resize: int | None = None,
                value_range: tuple[float, float] | None = None) -> ImageSet:
    """Load a dataset split by name. Unknown names fail with the list of known ones."""
    prefix, sep, arg = name.partition(":")
    if sep and prefix in PARAMETRISED:
        if not arg:
            raise BadInput(f"{prefix}: needs a path, e.g. {prefix}:/data/images")
        return PARAMETRISED.get(prefix)(arg, options=LoadOptions(resize=resize, value_range=value_range))
    if name not in DATASETS:
        raise BadInput(f"unknown dataset {name!r}; known datasets: {', '.join(known_names())}")
    source = DATASETS.get(name)
    if split not in source.splits:
        raise BadInput(f"{name} has no split {split!r}; its splits: {', '.join(source.splits)}")
    return source.load(split, data_root(root), download=download)
