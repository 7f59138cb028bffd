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


def _training(r: dict) -> dict:
    """A row's training provenance (empty for a real-data row, or one restored from a published table)."""
    return ((r.get("provenance") or {}).get("train") or {}).get("provenance") or {}


def _trained(r: dict) -> bool:
    """Whether a row trained a model: it has a training record or kimg (a real-data row has neither)."""
    return (r.get("kimg") or 0) > 0 or "train" in (r.get("provenance") or {})


def torch_threads(rows) -> str:
    """The torch threads the trained rows ran on, as their training provenance records them, every session of a
    run trained in several sittings included ("1", "1/2" for a mix, "not recorded" when no row says), and how many
    trained rows do not say, in whole or in part (stored before threads or sessions were recorded, or restored
    from a table): a header must not read "2" for a table most of whose training ran on 1. A row trained if it has
    a training record or kimg; a real-data row has neither."""
    def threads(r) -> tuple[set[str], bool]:
        train = _training(r)
        sessions = train.get("sessions") or []
        seen = {str(t) for t in [train.get("torch_threads"), *(s.get("torch_threads") for s in sessions)]
                if t is not None}
        return seen, bool(seen) and all(s.get("recorded", True) for s in sessions)

    read = [threads(r) for r in rows]  # once per row
    seen = sorted(set().union(*(s for s, _ in read)), key=int)
    trained = [whole for r, (_, whole) in zip(rows, read) if _trained(r)]
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


def made_on(rows) -> tuple[str, str]:
    """Hardware and software in words for a table's header, read from the rows' own provenance: the devices their
    training sessions ran on, and the versions and git revisions that made them (every distinct value; rows made on
    another machine, on a GPU lent for an hour or imported from a file, are not described by the machine that
    writes the table). Where no row records a device, this machine, marked as such."""
    devices, stacks, revs = [], [], []
    trained = unrecorded = 0

    def add(seen: list, value) -> None:
        if value and value not in seen:
            seen.append(value)

    for r in rows:
        p, train = r.get("provenance") or {}, _training(r)
        for part in (train, *(train.get("sessions") or [])):
            add(devices, part.get("device_name"))
        if _trained(r):
            trained += 1
            unrecorded += not train.get("device_name")
        v = p.get("versions") or {}
        if v.get("torch"):
            add(stacks, f"torch {v['torch']}, torchvision {v.get('torchvision', '?')}, torch-fidelity "
                        f"{v.get('torch-fidelity', '?')}, python {v.get('python', '?')}")
        add(revs, (r.get("git_rev") or p.get("git_rev") or "")[:12])
    if devices:
        hardware = " / ".join(devices) + (f" (not recorded for {unrecorded} of {trained} trained rows)"
                                          if unrecorded else "")
    else:
        here = machine()
        hardware = f"not recorded by the rows (this machine: {here.get('gpu') or here['processor']})"
    if not stacks:
        v = versions()
        stacks = [f"torch {v['torch']}, torchvision {v['torchvision']}, torch-fidelity {v['torch-fidelity']}, "
                  f"python {v['python']} (this machine: the rows do not record theirs)"]
    git = (", ".join(revs) if len(revs) <= 3 else f"{len(revs)} revisions, each row records its own") if revs else "n/a"
    return hardware, f"{' / '.join(stacks)}; ganbench git {git}"
