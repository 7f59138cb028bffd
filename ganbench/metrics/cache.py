"""Reference feature cache: per-image features of a reference set, keyed by everything that changes them and
verified on load.

The key hashes the images' content (``ImageSource.content_key``: their decoded pixels), the image
count, the resize mode, the weights' SHA-256, the extractor version and the feature names. An entry
is ``KEY.pt`` (tensors) and ``KEY.json`` (what they are, and the SHA-256 of the tensors' bytes), both
written atomically in ``cache_dir("reference")``. On load the checksum, the key, the shapes and
finiteness are checked: a stale, corrupt or moved entry is a miss, never a number.
pytorch-fid / clean-fid ``.npz`` files holding ``mu`` and ``sigma`` are read here too.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import BadInput
from ..io import atomic_path, cache_dir, write_text_atomic

FORMAT = "ganbench-reference-v2"


def reference_key(content: str, n: int, networks: dict[str, dict], features: tuple[str, ...]) -> str:
    """The key of ``n`` images' features ``features`` computed by ``networks`` ({name: signature}: weights SHA-256,
    preprocessing, extractor version). Inception-only keys keep the fields they always had, so entries made before
    the network registry still hit."""
    if set(networks) == {"inception"}:
        sig = networks["inception"]
        parts = {"format": FORMAT, "content": content, "n": n, "resize_mode": sig["resize_mode"],
                 "weights_sha256": sig["weights_sha256"], "extractor": sig["extractor"], "features": sorted(features)}
    else:
        parts = {"format": FORMAT, "content": content, "n": n, "networks": networks, "features": sorted(features)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def checksum(features: dict[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(features):
        t = features[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def load(key: str, n: int | None = None) -> dict[str, torch.Tensor] | None:
    """The cached features by name, or None on a miss. A missing, unreadable, mismatched (checksum, key, row
    count) or non-finite entry is a miss."""
    folder = cache_dir("reference")
    data, meta_path = folder / f"{key}.pt", folder / f"{key}.json"
    if not (data.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text())
        feats = torch.load(data, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - any unreadable entry is a miss
        return None
    if not isinstance(feats, dict) or meta.get("key") != key or meta.get("format") != FORMAT:
        return None
    if not all(isinstance(v, torch.Tensor) and v.ndim == 2 for v in feats.values()):
        return None
    rows = meta.get("n") if n is None else n
    if any(v.shape[0] != rows for v in feats.values()) or meta.get("checksum") != checksum(feats):
        return None
    if not all(torch.isfinite(v).all() for v in feats.values()):
        return None
    return feats


def save(key: str, features: dict[str, torch.Tensor], meta: dict) -> Path:
    folder = cache_dir("reference")
    feats = {k: v.detach().cpu().contiguous() for k, v in features.items()}
    with atomic_path(folder / f"{key}.pt") as tmp:
        torch.save(feats, tmp)
    write_text_atomic(folder / f"{key}.json", json.dumps(
        {"key": key, "format": FORMAT, "checksum": checksum(feats), **meta}, indent=2, default=str))
    return folder / f"{key}.pt"


def entries() -> list[dict]:
    """Every cache entry's description, with its size in bytes."""
    out = []
    for meta_path in sorted(cache_dir("reference").glob("*.json")):
        data_path = meta_path.with_suffix(".pt")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            meta = {"key": meta_path.stem, "error": "unreadable description"}
        meta["bytes"] = data_path.stat().st_size if data_path.is_file() else 0
        meta["path"] = str(data_path)
        out.append(meta)
    return out


def clear() -> int:
    """Delete every entry; returns how many were removed."""
    folder = cache_dir("reference")
    n = 0
    for p in list(folder.glob("*.pt")) + list(folder.glob("*.json")):
        p.unlink(missing_ok=True)
        n += p.suffix == ".pt"
    return n


def is_stats_file(path: str | Path) -> bool:
    """True for an ``.npz`` that holds ``mu`` and ``sigma`` (pytorch-fid / clean-fid statistics)."""
    path = Path(path)
    if path.suffix != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as z:
            return "mu" in z and "sigma" in z
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def load_stats(path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``mu`` ``(D,)`` and ``sigma`` ``(D, D)`` from a pytorch-fid / clean-fid ``.npz``, float64."""
    with np.load(path, allow_pickle=False) as z:
        mu, sigma = np.asarray(z["mu"], np.float64), np.asarray(z["sigma"], np.float64)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise BadInput(f"{path}: mu must be (D,) and sigma (D, D), got {mu.shape} and {sigma.shape}")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise BadInput(f"{path}: mu/sigma contain NaN/Inf")
    return torch.from_numpy(mu), torch.from_numpy(sigma)
