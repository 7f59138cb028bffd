"""Dataset registry: name -> source. ``get_dataset`` is the one entry point.

Built-in names (``fashion-mnist``, ``mnist``, ``cifar10``) are registered with
``@register``; ``folder:PATH`` and ``arrays:PATH`` are parametrised by a path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from ..errors import BadInput
from ..registry import Registry
from .base import ImageSet, SliceImageSet


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
    """Load a dataset split by name. Unknown names fail with the list of known ones.

    ``resize`` applies to ``folder:`` inputs only, ``value_range`` (of float arrays) to ``arrays:`` inputs only."""
    if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < 1):
        raise BadInput(f"--resize takes a size in pixels >= 1, got {resize!r}")
    prefix, sep, arg = name.partition(":")
    if sep and prefix in PARAMETRISED:
        if not arg:
            raise BadInput(f"{prefix}: needs a path, e.g. {prefix}:/data/images")
        return PARAMETRISED.get(prefix)(arg, options=LoadOptions(resize=resize, value_range=value_range))
    if name not in DATASETS:
        path = Path(name).expanduser()
        if path.exists():
            kind = "folder" if path.is_dir() else "arrays"
            raise BadInput(f"{name} is a {'folder' if path.is_dir() else 'file'}, not a dataset name; "
                           f"give it as {kind}:{name}")
        if "/" in name or os.sep in name or path.suffix:
            raise BadInput(f"{name} does not exist (no such file or folder); a dataset is a name "
                           f"({', '.join(DATASETS)}) or folder:PATH / arrays:PATH")
        raise BadInput(f"unknown dataset {name!r}; known datasets: {', '.join(known_names())}")
    if resize is not None or value_range is not None:
        option, kind = ("--resize", "folder:") if resize is not None else ("--range", "arrays:")
        raise BadInput(f"{option} applies to {kind} inputs, not to {name}; leave it out")
    source = DATASETS.get(name)
    base_split, rows = parse_split(split)
    if base_split not in source.splits:
        raise BadInput(f"{name} has no split {base_split!r}; its splits: {', '.join(source.splits)} (a slice of one: "
                       "train[:50000], train[50000:])")
    images = source.load(base_split, data_root(root), download=download)
    if rows is None:
        return images
    start, stop = rows
    return SliceImageSet(images, start or 0, len(images) if stop is None else stop)


def parse_split(split: str) -> tuple[str, tuple[int | None, int | None] | None]:
    """``train`` -> ("train", None); ``train[:50000]`` -> ("train", (None, 50000)); ``train[50000:]`` ->
    ("train", (50000, None)): a contiguous slice of a split, such as a validation split held out of training."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_-]+)\s*(?:\[\s*(\d*)\s*:\s*(\d*)\s*\])?\s*", split or "")
    if not m:
        raise BadInput(f"split {split!r}: give a split name (train, test) or a slice of one, e.g. train[:50000]")
    if m.group(2) is None and m.group(3) is None and "[" not in split:
        return m.group(1), None
    return m.group(1), (int(m.group(2)) if m.group(2) else None, int(m.group(3)) if m.group(3) else None)
