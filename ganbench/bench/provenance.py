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
    "not recorded" when no row says: rows without training, or stored before trials recorded it)."""
    seen = sorted({str(((r.get("provenance") or {}).get("train") or {}).get("provenance", {}).get("torch_threads"))
                   for r in rows} - {"None"})
    return "/".join(seen) or "not recorded"


def machine() -> dict[str, str]:
    """Hardware in words, for leaderboard headers."""
    import torch

    from ..devices import cpu_name

    info = {"platform": platform.platform(), "processor": f"{cpu_name()}, {os.cpu_count()} cores",
            "cpu_threads": str(torch.get_num_threads()), "python_executable": sys.executable}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
