"""``compare``: evaluate a new model's samples (or generator) under a budget's protocol and rank it
among the baselines evaluated under the same protocol (from the store or a leaderboard CSV).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
import torch

from ..config import (DEFAULT_BUDGET, DEFAULT_DATASET, DEFAULT_STORE, Budget, EvalProtocol, check_protocol,
                      get_budget, hash_dict)
from ..data import TensorImageSet, array_image_set
from ..devices import resolve_device
from ..errors import BadInput, MissingAsset
from ..zoo.sampler import sample
from ..io import check_writable, sha256_file
from ..metrics import registry
from .jobs import digest, evaluated_record, protocol_for, protocol_hash, record_base
from .provenance import versions
from ..zoo.view import View, conv_view
from .backend import Backend, log as _log
from .runner import CLASS_METRICS
from .store import Store
from .tables import (REAL_DATA, display_columns, feature_space, primary_of, protocol_header, render,
                     summary_frame)


@dataclass
class CompareResult:
    """The new model's row, the ranked leaderboard (summary frame) and its Markdown."""

    record: dict
    leaderboard: pd.DataFrame
    rank: int | None
    markdown: str


# --------------------------------------------------------------------------- sources
def import_factory(target: str) -> Callable:
    """``package.module:factory`` or ``path/to/file.py:factory`` -> the callable."""
    mod_name, sep, attr = target.rpartition(":")
    if not sep or not mod_name or not attr:
        raise BadInput(f"--generator takes MODULE:FACTORY such as mypkg.nets:make_generator, got {target!r}")
    try:
        if mod_name.endswith(".py"):
            path = Path(mod_name)
            if not path.is_file():
                raise BadInput(f"--generator: no such file {path}")
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(mod_name)
    except BadInput:
        raise
    except Exception as e:  # an ImportError, or any error raised while importing the user's module
        raise BadInput(f"--generator: cannot import {mod_name!r} ({type(e).__name__}: {e}); "
                       "check the module path and that it imports on its own") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise BadInput(f"--generator: {mod_name!r} has no callable {attr!r}")
    return fn


def load_user_generator(target: str, checkpoint: str | None, device: torch.device) -> torch.nn.Module:
    """Build the user's generator with ``factory()`` and load ``checkpoint`` (a state dict) into it."""
    G = import_factory(target)()
    if not callable(G):
        raise BadInput(f"--generator: {target}() returned {type(G).__name__}, not a callable z -> images")
    if checkpoint:
        if not Path(checkpoint).is_file():
            raise MissingAsset(f"--checkpoint {checkpoint}: no such file")
        if not isinstance(G, torch.nn.Module):
            raise BadInput(f"--checkpoint needs {target}() to return a torch.nn.Module to load it into")
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable file
            raise BadInput(f"--checkpoint {checkpoint}: cannot read it as a torch state dict ({e})") from None
        for key in ("generator", "G", "g_ema", "state_dict"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
                break
        try:
            G.load_state_dict(state)
        except (RuntimeError, TypeError) as e:
            raise BadInput(f"--checkpoint {checkpoint} does not fit {target}(): {str(e).splitlines()[0]}") from None
    if isinstance(G, torch.nn.Module):
        G = G.to(device).eval()
    return G


def sample_user_generator(G: Callable, n: int, z_dim: int, seed: int, device: torch.device):
    """``n`` samples of the user's generator through the one sampler (``zoo.sampler``: latents seeded ``seed``;
    labels from ``G.class_probs`` or uniform when ``G.num_classes`` > 0); outputs must lie in [-1, 1].

    Returns ``Samples(uint8 (n, C, H, W), labels or None)``.
    """
    try:
        return sample(G, n, seed, device=device, z_dim=z_dim)
    except BadInput as e:
        raise BadInput(f"--generator: {e}") from None
    except (TypeError, ValueError, RuntimeError) as e:
        k = int(getattr(G, "num_classes", 0) or 0)
        call = f"(z (B, {z_dim}), c (B,))" if k else f"latents (B, {z_dim})"
        raise BadInput(f"--generator must map {call} to images (B, C, H, W) in [-1, 1]: "
                       f"{str(e).splitlines()[0][:160]}") from None


def _fit_to_reference(images, reference, view: View, where: str):
    """Samples at the reference's native resolution, as given or with a conv net's ``view`` undone (crop 32 -> 28)."""
    c, r = images.channels, images.resolution
    if c != reference.channels:
        raise BadInput(f"{where}: samples have {c} channel(s), {reference.name} images have {reference.channels}")
    if r == reference.resolution:
        return images
    if r == view.resolution:
        return TensorImageSet(view.to_native(images.uint8(slice(None))), images.name, images.split,
                              images.source, transform=f"undo:{view.mode}{view.native_resolution}to{view.resolution}",
                              labels=images.labels(slice(None)), num_classes=images.num_classes or None)
    sizes = sorted({view.resolution, reference.resolution})
    raise BadInput(f"{where}: samples are {r}x{r}, {reference.name} is compared at "
                   f"{' or '.join(f'{s}x{s}' for s in sizes)}; resize them first")


# ----------------------------------------------------------------------- leaderboard
def leaderboard_path(against: str | Path) -> Path:
    """``--against``: a leaderboard CSV's path, or the name of one shipped with ganbench (``fashion-mnist``)."""
    path = Path(against)
    if path.is_file() or path.suffix or len(path.parts) > 1:
        return path
    shipped = files("ganbench") / "leaderboards" / f"{against}.csv"
    if not shipped.is_file():
        names = sorted(p.name[:-4] for p in (files("ganbench") / "leaderboards").iterdir() if p.name.endswith(".csv"))
        raise BadInput(f"--against {against}: no such file, nor a leaderboard shipped with ganbench "
                       f"({', '.join(names) or 'none'})")
    return Path(str(shipped))


def leaderboard_from_csv(path: str | Path, dataset: str, protocol: EvalProtocol) -> pd.DataFrame:
    """A summary frame read from a leaderboard CSV, refused if it was made under another protocol."""
    path = leaderboard_path(path)
    if not path.is_file():
        raise BadInput(f"--against {path}: no such file")
    try:
        frame = pd.read_csv(path, index_col=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as e:
        raise BadInput(f"--against {path}: not a leaderboard CSV ({str(e).strip().splitlines()[0][:120]})") from None
    if "runs" not in frame.columns or not any(c.endswith("_mean") for c in frame.columns):
        raise BadInput(f"--against {path}: not a ganbench leaderboard CSV (write one with `ganbench run`)")
    for col, want in (("dataset", dataset), ("num_samples", protocol.num_samples)):
        have = set(frame[col].dropna()) if col in frame.columns else set()
        if have and have != {want}:
            raise BadInput(f"--against {path}: made with {col}={'/'.join(map(str, sorted(have)))}, "
                           f"this comparison uses {want}; pick the matching --budget/--dataset")
    for c in [c for c in frame.columns if c.endswith("_values")]:
        frame[c] = [[float(v) for v in str(s).split(";")] if isinstance(s, str) and s else [] for s in frame[c]]
    return frame


def rank_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted best first by the primary metric (missing values last); the real-data floor row last."""
    primary = primary_of([m for m in display_columns() if f"{m}_mean" in frame.columns])
    if primary is None:
        return frame
    models = frame.drop(index=REAL_DATA, errors="ignore")
    ranked = models.sort_values(f"{primary}_mean", ascending=display_columns()[primary].better == "lower",
                                na_position="last")
    return pd.concat([ranked, frame.loc[[REAL_DATA]]]) if REAL_DATA in frame.index else ranked


# ---------------------------------------------------------------------------- compare
@dataclass(frozen=True)
class CompareOptions:
    """Where and how a comparison runs, not what it compares: the store, the device, where datasets live, progress
    output, and how the samples are read or the generator sampled (value range, latent size, seed)."""

    store: str | Path | Store | None = None  # the results database (default runs/results.sqlite)
    device: str | None = None  # cuda, cuda:1 or cpu (default: cuda when present)
    data_root: str | None = None  # folder holding datasets
    progress: bool = True
    value_range: tuple[float, float] | None = None  # float sample arrays: their value range (e.g. (-1, 1))
    z_dim: int | None = None  # a generator's latent size (default: its z_dim attribute)
    seed: int = 0  # a generator's latents are seeded with it


def compare(name: str, samples: str | None = None, generator: str | None = None, checkpoint: str | None = None,
            against: str | Path | None = None, dataset: str = DEFAULT_DATASET, budget: str | Budget = DEFAULT_BUDGET,
            metrics: Sequence[str] | None = None, protocol: EvalProtocol | None = None,
            options: CompareOptions = CompareOptions(), backend: Backend | None = None) -> CompareResult:
    """Evaluate ``samples`` (folder / .npy / .npz) or ``generator`` (``MODULE:FACTORY``, loading ``checkpoint``)
    under ``budget``'s protocol and rank it among the store's baselines, or those of the leaderboard CSV ``against``.
    ``options`` (``CompareOptions``): the store, the device, how samples are read or the generator sampled."""
    o = options
    # Every input is checked before any work: a bad one costs nothing and leaves no store behind.
    if bool(samples) == bool(generator):
        raise BadInput("give exactly one of --samples PATH or --generator MODULE:FACTORY")
    b = (backend or Backend()).resolve()
    budget = get_budget(budget) if isinstance(budget, str) else budget
    if metrics is not None:
        metrics = registry.parse(metrics, ())  # "fid,kid" or ("fid", "kid"); never the letters of "fid"
    dev = resolve_device(o.device)
    store_path = None if isinstance(o.store, Store) else check_writable(o.store or DEFAULT_STORE, "--store")
    base = leaderboard_from_csv(against, dataset, protocol_for(budget, base=protocol)) if against else None
    if samples and not Path(samples).exists():
        raise BadInput(f"--samples {samples}: no such file or folder")
    G = load_user_generator(generator, checkpoint, dev) if generator else None
    if metrics is None and int(getattr(G, "num_classes", 0) or 0):  # a conditional generator: class-aware metrics
        metrics = tuple(EvalProtocol().metrics) + CLASS_METRICS
    proto = check_protocol(protocol_for(budget, tuple(metrics) if metrics else None, base=protocol))
    reference = b.get_dataset(dataset, proto.ref_split, root=o.data_root)
    ref_view = conv_view(reference, budget.view)  # the view of a conv net under this budget: samples may come at it

    images, source, source_hash = _entry(b, samples, generator, checkpoint, G, o, reference, ref_view, proto, budget)
    # The store is opened (made) only once there is something to read or write in it.
    st = o.store if isinstance(o.store, Store) else Store(store_path) if store_path.exists() else None
    phash = protocol_hash(proto, dataset)
    key = digest({"external": name, "source": source_hash, "seed": o.seed, "dataset": dataset, "protocol": phash,
                  "budget": hash_dict(budget)})
    # A generator without a checkpoint has no fingerprint of its weights: evaluate it every time.
    record = st.get(key) if st is not None and (samples or checkpoint) else None
    if record is None or record["status"] != "ok":
        if images is None:
            images = _generated(G, name, source, proto.num_samples, dev, reference, ref_view, o.progress)
        t0 = time.perf_counter()
        ev = b.evaluate(images if images.num_classes else images.uint8(slice(0, proto.num_samples)), reference,
                        metrics=proto.metrics,
                        num_samples=proto.num_samples, device=o.device, protocol=proto, progress=o.progress)
        known = record_base(key, name, source_hash[:16], o.seed, dataset, budget, proto, run="compare",
                            groups={"external": True})
        record = evaluated_record(known, ev, t0, {"versions": versions(), "source": source,
                                                 "budget": dataclasses.asdict(budget),
                                                 "protocol": dataclasses.asdict(proto),
                                                 "dataset": reference.describe(),
                                                 "samples_transform": images.transform},
                                  device=str(ev.get("provenance", {}).get("device", dev)))
        st = st if st is not None else Store(store_path)
        st.put(record)
        record = st.get(key)
    else:
        _log(f"{name}: reusing its result under this protocol from {st.path}", o.progress)
    return _ranked(record, base, st, name, dataset, phash, budget, proto)


def _entry(b: Backend, samples, generator, checkpoint, G, o: CompareOptions, reference, ref_view,
           proto: EvalProtocol, budget: Budget):
    """What is compared: ``(images or None for a generator, sampled later), its provenance, its fingerprint)``,
    checked (enough samples, a latent size) before any work."""
    if samples:
        path = Path(samples)
        kind = "folder" if path.is_dir() else "arrays"
        images = b.get_dataset(f"{kind}:{path}", value_range=o.value_range)
        images = _fit_to_reference(images, reference, ref_view, f"--samples {samples}")
        if len(images) < proto.num_samples:
            raise BadInput(f"--samples {samples}: holds {len(images)} images; budget {budget.name} evaluates "
                           f"{proto.num_samples} (pass more samples or a smaller --budget)")
        source_hash = sha256_file(path) if path.is_file() else digest(sorted(
            (p.name, p.stat().st_size) for p in path.rglob("*") if p.is_file()))
        return images, {"samples": str(path), "samples_hash": source_hash}, source_hash
    zd = o.z_dim or getattr(G, "z_dim", None)
    if not zd:
        raise BadInput("--generator: give --z-dim, or give the generator a z_dim attribute")
    source_hash = sha256_file(checkpoint) if checkpoint else digest(generator)
    return None, {"generator": generator, "checkpoint": checkpoint, "z_dim": zd, "seed": o.seed,
                  "checkpoint_sha256": source_hash if checkpoint else None}, source_hash


def _generated(G, name: str, source: dict, n: int, dev, reference, ref_view, progress: bool):
    """``n`` samples of a user's generator (its signature and range checked on two first), fitted to the
    reference's resolution."""
    zd, seed, generator = source["z_dim"], source["seed"], source["generator"]
    sample_user_generator(G, 2, zd, seed, dev)  # a wrong signature or range fails here, before any work
    _log(f"sampling {n} images from {generator}", progress)
    drawn = sample_user_generator(G, n, zd, seed, dev)
    return _fit_to_reference(array_image_set(drawn.images.numpy(), f"{name} samples", labels=None if
                                             drawn.labels is None else drawn.labels.numpy()),
                             reference, ref_view, f"--generator {generator}")


def _ranked(record: dict, base, st: Store | None, name: str, dataset: str, phash: str, budget: Budget,
            proto: EvalProtocol) -> CompareResult:
    """``record`` ranked among the baselines: ``base`` (a leaderboard CSV's frame) or the store's rows under the
    same protocol; the board and its Markdown with the protocol header."""
    new = summary_frame([record])
    if base is not None:
        base_rows = []
    else:
        base_rows = [r for r in st.query(dataset=dataset, protocol_hash=phash, budget=budget.name)
                     if r["model"] != name and not (r.get("groups") or {}).get("external")]
        base = summary_frame(base_rows) if base_rows else pd.DataFrame()
    if name in getattr(base, "index", []):
        base = base.drop(index=name)
    board = rank_frame(pd.concat([base, new]) if len(base) else new)
    board.index.name = "model"
    rank = list(board.index).index(name) + 1
    ranked = len(board) - (REAL_DATA in board.index)
    header = protocol_header(base_rows + [record])
    note = (f"{name} ranks {rank} of {ranked}" if ranked > 1 else
            f"no baseline results under this protocol in {st.path}; run `ganbench run --models dcgan,wgan "
            f"--budget {budget.name}` or pass --against {dataset}")
    md = "\n".join(f"> {line}" for line in header) + "\n\n" + render(board, "md", proto.num_samples,
                                                                           feature_space(base_rows + [record])) \
        + f"\n\n{note}\n"
    return CompareResult(record, board, rank, md)
