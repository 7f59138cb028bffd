"""Checkpoints: one ``torch.save`` file per run (``checkpoint.pt``), written atomically, read defensively.

Every checkpoint carries the SHA-256 of its payload (every tensor's bytes, every value, in order), checked on
load: a flipped bit on disk is a clear error, never a model trained on or evaluated with wrong weights.
Checkpoints written before the checksum existed load unchecked.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..config import ModelSpec, from_dict
from ..devices import resolve_device
from ..errors import BadInput, MissingAsset
from ..io import atomic_path
from ..zoo.nets import build_nets

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = "ganbench-checkpoint-v1"


def checkpoint_path(path_or_out_dir: str | os.PathLike) -> Path:
    p = Path(path_or_out_dir)
    return p / CHECKPOINT_NAME if p.is_dir() else p


#: The key of the payload's checksum in a checkpoint; and of the file's SHA-256 in a loaded state (not stored).
CHECKSUM_KEY = "payload_sha256"
FILE_SHA_KEY = "file_sha256"


def _feed(h, obj: Any) -> None:
    """Hash ``obj`` into ``h``: tensors by dtype, shape and bytes; containers in order; other values by repr."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        h.update(b"{%d" % len(obj))
        for k, v in obj.items():
            _feed(h, k)
            _feed(h, v)
    elif isinstance(obj, (list, tuple)):
        h.update(b"[%d" % len(obj))
        for v in obj:
            _feed(h, v)
    else:
        h.update(f"{type(obj).__name__}:{obj!r};".encode())


def payload_checksum(state: dict) -> str:
    """SHA-256 of everything in ``state`` except the checksum itself."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in state.items() if k not in (CHECKSUM_KEY, FILE_SHA_KEY)})
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors, dicts, lists, numbers) and its checksum to ``path`` via a temp file + rename."""
    state = {"format": FORMAT, **state}
    state[CHECKSUM_KEY] = payload_checksum(state)
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path_or_out_dir: str | os.PathLike, map_location="cpu") -> dict:
    """Read a checkpoint and verify its checksum; a missing, truncated, corrupt or foreign file is a clear
    ``MissingAsset`` / ``BadInput``. ``state[FILE_SHA_KEY]`` is the SHA-256 of the bytes read (the file loaded)."""
    path = checkpoint_path(path_or_out_dir)
    if not path.is_file():
        raise MissingAsset(f"no checkpoint at {path}; train a model there first (ganbench train ... --out DIR)")
    fix = "delete it to retrain from scratch, or restore it from a copy"
    try:
        data = path.read_bytes()
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"checkpoint {path} is truncated or corrupt ({first[:120]}); {fix}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise BadInput(f"{path} is not a ganbench checkpoint (expected format {FORMAT}); point at a run folder "
                       "written by `ganbench train`")
    if CHECKSUM_KEY in state and state[CHECKSUM_KEY] != payload_checksum(state):
        raise BadInput(f"checkpoint {path} is corrupt: its contents no longer match the checksum written with them "
                       f"(changed bytes on disk); {fix}")
    state[FILE_SHA_KEY] = hashlib.sha256(data).hexdigest()
    return state


def load_generator(path_or_out_dir: str | os.PathLike, use_ema: bool = True, device=None) -> nn.Module:
    """The trained generator of a run, in eval mode: maps z ``(N, G.z_dim)`` to images ``(N, C, H, W)`` in
    ``G.value_range``, in the schedule's phase the checkpoint was saved in (a growing G mid-run makes images at
    that phase's resolution and fade-in, as it trained, not through its untrained full-size layers).

    ``use_ema`` picks the EMA weights when the spec kept them (else the raw G).
    """
    state = load_checkpoint(path_or_out_dir)
    spec = from_dict(ModelSpec, state["spec"], "checkpoint spec")
    num_classes = int(state.get("num_classes") or 0)
    G, _ = build_nets(spec.arch, tuple(state["shape"]), spec.tricks.spectral_norm_g, False, num_classes=num_classes)
    model = state["model"]
    G.load_state_dict(model["ema"]["module"] if use_ema and model.get("ema") else model["G"])
    phase = state.get("phase") or {}
    if phase.get("resolution") is not None:
        for m in G.modules():
            if hasattr(m, "set_phase"):
                m.set_phase(phase["resolution"], phase.get("alpha", 1.0))
    if num_classes:
        G.class_probs = state.get("class_probs")  # samples follow the training class distribution
    G.checkpoint_sha256 = state[FILE_SHA_KEY]  # the file these weights came from, for the results
    return G.to(resolve_device(device)).eval().requires_grad_(False)
