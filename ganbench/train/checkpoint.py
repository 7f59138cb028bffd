"""Checkpoints: one ``torch.save`` file per run (``checkpoint.pt``), written atomically, read defensively."""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

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


def save_checkpoint(path: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (tensors, dicts, lists, numbers) to ``path`` via a temp file + rename."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)
    return Path(path)


def load_checkpoint(path_or_out_dir: str | os.PathLike, map_location="cpu") -> dict:
    """Read a checkpoint; a missing, truncated or foreign file is a clear ``MissingAsset`` / ``BadInput``."""
    path = checkpoint_path(path_or_out_dir)
    if not path.is_file():
        raise MissingAsset(f"no checkpoint at {path}; train a model there first (ganbench train ... --out DIR)")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BadInput(f"checkpoint {path} is truncated or corrupt ({first[:120]}); delete it to retrain "
                       "from scratch, or restore it from a copy") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise BadInput(f"{path} is not a ganbench checkpoint (expected format {FORMAT}); point at a run folder "
                       "written by `ganbench train`")
    return state


def load_generator(path_or_out_dir: str | os.PathLike, use_ema: bool = True, device=None) -> nn.Module:
    """The trained generator of a run, in eval mode: maps z ``(N, G.z_dim)`` to images ``(N, C, H, W)`` in [-1, 1].

    ``use_ema`` picks the EMA weights when the spec kept them (else the raw G).
    """
    state = load_checkpoint(path_or_out_dir)
    spec = from_dict(ModelSpec, state["spec"], "checkpoint spec")
    num_classes = int(state.get("num_classes") or 0)
    G, _ = build_nets(spec.arch, tuple(state["shape"]), spec.tricks.spectral_norm_g, False, num_classes=num_classes)
    model = state["model"]
    G.load_state_dict(model["ema"]["module"] if use_ema and model.get("ema") else model["G"])
    if num_classes:
        G.class_probs = state.get("class_probs")  # samples follow the training class distribution
    return G.to(resolve_device(device)).eval().requires_grad_(False)
