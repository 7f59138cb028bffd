"""What every result records about the software and machine that made it."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

PACKAGES = ("ganbench", "torch", "torchvision", "torch-fidelity", "numpy", "scipy")


@functools.lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """Versions of Python and the packages that change the numbers."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@functools.lru_cache(maxsize=1)
def git_revision() -> str | None:
    """The ganbench checkout's commit (``+dirty`` when modified), or None outside a git checkout."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists():
        return None
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "ganbench"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


def torch_threads(rows) -> str:
    """The torch threads each trained row ran on, as its training provenance records them ("1", "1/2" for a mix,
    "not recorded" when no row says), and how many trained rows do not say (stored before trials recorded it, or
    restored from a table): a header must not read "2" for a table most of whose rows ran on 1. A row trained if
    it has a training record or kimg; a real-data row has neither."""
    def threads(r):
        t = (((r.get("provenance") or {}).get("train") or {}).get("provenance") or {}).get("torch_threads")
        return None if t is None else str(t)

    trained = [r for r in rows if (r.get("kimg") or 0) > 0 or "train" in (r.get("provenance") or {})]
    seen = sorted({threads(r) for r in rows} - {None})
    missing = sum(threads(r) is None for r in trained)
    if not seen:
        return "not recorded"
    return "/".join(seen) + (f" (not recorded for {missing} of {len(trained)} trained rows)" if missing else "")


def machine() -> dict[str, str]:
    """Hardware in words, for leaderboard headers."""
    import torch

    from ..devices import cpu_name

    info = {"platform": platform.platform(), "processor": f"{cpu_name()}, {os.cpu_count()} cores",
            "cpu_threads": str(torch.get_num_threads()), "python_executable": sys.executable}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
