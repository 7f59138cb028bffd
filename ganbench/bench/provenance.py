"""What every result records about the software and machine that made it."""

from __future__ import annotations

import functools
import os
import platform
import sys
from importlib import metadata

from ..version import git_revision  # noqa: F401  (re-exported: results and headers read it here)

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


def torch_threads(rows) -> str:
    """The torch threads the trained rows ran on, as their training provenance records them, every session of a
    run trained in several sittings included ("1", "1/2" for a mix, "not recorded" when no row says), and how many
    trained rows do not say, in whole or in part (stored before threads or sessions were recorded, or restored
    from a table): a header must not read "2" for a table most of whose training ran on 1. A row trained if it has
    a training record or kimg; a real-data row has neither."""
    def threads(r) -> tuple[set[str], bool]:
        train = (((r.get("provenance") or {}).get("train") or {}).get("provenance") or {})
        sessions = train.get("sessions") or []
        seen = {str(t) for t in [train.get("torch_threads"), *(s.get("torch_threads") for s in sessions)]
                if t is not None}
        return seen, bool(seen) and all(s.get("recorded", True) for s in sessions)

    read = [threads(r) for r in rows]  # once per row
    seen = sorted(set().union(*(s for s, _ in read)), key=int)
    trained = [whole for r, (_, whole) in zip(rows, read)
               if (r.get("kimg") or 0) > 0 or "train" in (r.get("provenance") or {})]
    if not seen:
        return "not recorded"
    missing = trained.count(False)
    return "/".join(seen) + (f" (not recorded, in whole or in part, for {missing} of {len(trained)} trained rows)"
                             if missing else "")


def machine() -> dict[str, str]:
    """Hardware in words, for leaderboard headers."""
    import torch

    from ..devices import cpu_name

    info = {"platform": platform.platform(), "processor": f"{cpu_name()}, {os.cpu_count()} cores",
            "cpu_threads": str(torch.get_num_threads()), "python_executable": sys.executable}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info
