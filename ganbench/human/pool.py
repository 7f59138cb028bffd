"""The images of a study: a run's generated samples and real images, encoded alike, behind opaque ids.

A study belongs to a run folder (its key is the run's ``run_key``). Its generated images are each model's
samples: the generator of every ok job, drawn with the job's own sample seed, so the first k samples are the
first k of the N that FID saw (``zoo.sampler``) and a larger pool goes on from there with the same seed,
mapped back to the dataset's native resolution as for the metrics. Its real images are drawn at random
(seeded) from the dataset's training split (``reals="train"``, the paper's), or from the images the run used
as its reference (``reals="reference"``: the first ``ref_samples`` of the reference split). Each side's draw is
split once into qualification, tutorial and study images, which never mix, and goes into the store in one
transaction: PNG bytes (``encoding``) under a random id, with the truth, the model and where the image came
from. At the paper's sizes (5,000 study and 500 qualification images per side) a side is 4.8 MB of store for
28x28 grayscale (880 bytes an image), 17.4 MB for 32x32 RGB; each stage reports its count and time on stderr.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from ..bench import human_store
from ..bench.backend import Backend
from ..bench.runner import read_manifest
from ..bench.store import Store
from ..zoo.view import stored_view
from ..errors import BadInput, MissingAsset
from .encoding import encode_png
from .protocol import DEFAULT_HUMAN, HumanProtocol

#: Roles of a study's images: tutorial images come with feedback, qualification images admit evaluators, study
#: images are scored. A side's draw is cut in this order.
ROLES = ("qualification", "tutorial", "study")


@dataclass(frozen=True)
class StudyRef:
    """A run's study: its key, its run folder and manifest, the store holding it, and the models it shows."""

    key: str
    run_dir: Path
    manifest: dict
    store: Store
    models: tuple[str, ...]


def open_study(run_dir: str | Path, models: Sequence[str] | None = None, store: str | Path | Store | None = None
               ) -> StudyRef:
    """The study of ``run_dir`` (a `ganbench run` folder); ``models`` None means every model of the run."""
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    run_models = list(dict.fromkeys(j["model"] for j in manifest.get("jobs", [])))
    chosen = list(models) if models else run_models
    unknown = [m for m in chosen if m not in run_models]
    if unknown:
        raise BadInput(f"--models: {', '.join(unknown)} not in the run {run_dir}; its models: {', '.join(run_models)}")
    if len(set(chosen)) != len(chosen):
        raise BadInput(f"--models: a model given twice in {','.join(chosen)}")
    if not chosen:
        raise BadInput(f"the run {run_dir} has no models")
    if not isinstance(store, Store):
        path = Path(store or manifest["store"])
        if not path.is_file():
            raise BadInput(f"no results store at {path}; pass the run's store with --store PATH")
    st = store if isinstance(store, Store) else Store(path)
    return StudyRef(str(manifest["run_key"]), run_dir, manifest, st, tuple(chosen))


def ok_rows(ref: StudyRef, model: str) -> list[dict]:
    """The stored rows of ``model``'s jobs in the run that finished ``ok`` (their samples are what people judge)."""
    keys = [j["key"] for j in ref.manifest["jobs"] if j["model"] == model]
    return [r for r in ref.store.rows(keys) if r["status"] == "ok"]


def pool_counts(ref: StudyRef) -> dict[tuple[str | None, str, str], int]:
    """Images in the store per ``(model or None for reals, truth, role)``."""
    with ref.store.read() as con:
        return human_store.image_counts(con, ref.key)


def prepare(ref: StudyRef, protocol: HumanProtocol = DEFAULT_HUMAN, backend: Backend | None = None,
            device: str | None = None, data_root: str | None = None, progress: bool = True) -> None:
    """Make sure the store holds the study's real images and each chosen model's generated ones.

    Pools already stored are kept as they are (an evaluator's images never change under them); only missing
    ones are drawn. Every model to draw is checked (ok rows, checkpoint found) before any generator runs.
    """
    counts = pool_counts(ref)
    missing = [m for m in ref.models if not any(k[0] == m for k in counts)]
    need_reals = not any(k[0] is None for k in counts)
    if not missing and not need_reals:
        return
    rows = {m: ok_rows(ref, m) for m in ref.models}
    empty = [m for m in ref.models if not rows[m]]
    if empty:
        raise BadInput(f"{', '.join(empty)} has no finished (ok) job in {ref.run_dir}; finish the run first "
                       "(re-run its `ganbench run` command) or leave it out of --models")
    checkpoints = {m: [_checkpoint(ref.run_dir, r, ref.manifest) for r in rows[m]] for m in missing}
    b = (backend or Backend()).resolve()
    first = rows[ref.models[0]][0]
    per_pool = protocol.qualification_pool + protocol.tutorial_pool + protocol.pool
    t0 = time.perf_counter()
    images: list[tuple[str | None, str, str, str, bytes]] = []  # (model, truth, role, source, png)
    shape = None
    if need_reals:
        split = _reals_split(first, protocol)
        _log(f"drawing {per_pool} real images of {first['dataset']}/{split} ({protocol.reals})", progress)
        reals, sources = _reals(b, first, split, per_pool, protocol, data_root)
        shape = tuple(reals.shape[1:])
        images += _encode(None, "real", reals, sources, protocol, progress)
    for m in missing:
        _log(f"drawing {per_pool} samples of {m} ({len(rows[m])} seed(s))", progress)
        fakes, sources = _fakes(b, rows[m], checkpoints[m], per_pool, protocol.seed, device, data_root)
        shape = shape or _stored_shape(ref)
        if shape is not None and tuple(fakes.shape[1:]) != shape:
            raise BadInput(f"{m}'s samples are {tuple(fakes.shape[1:])} but the real images are {shape}; "
                           "a study needs real and generated images of one shape")
        images += _encode(m, "fake", fakes, sources, protocol, progress)
    lengths = {len(png) for *_, png in images}
    assert len(lengths) == 1, f"one PNG length per study, got {sorted(lengths)}"  # encoding.py guarantees it
    size = sum(len(png) for *_, png in images)
    _log(f"storing {len(images)} images ({size / 1e6:.1f} MB) in {ref.store.path}", progress)
    _insert(ref, images, protocol, first["dataset"])
    _log(f"pools ready in {time.perf_counter() - t0:.1f} s", progress)


def _reals_split(row: dict, protocol: HumanProtocol) -> str:
    """The split real images come from: the run's training split, or its reference split."""
    if protocol.reals == "reference":
        return row["split"]
    return ((row.get("provenance") or {}).get("budget") or {}).get("train_split", "train")


def _log(msg: str, progress: bool) -> None:
    if progress:
        print(f"ganbench: {msg}", file=sys.stderr, flush=True)


def _checkpoint(run_dir: Path, row: dict, manifest: dict) -> str:
    """The checkpoint (or job folder) a row was evaluated from: as recorded, else the job folder, looked up as
    recorded and inside ``run_dir`` (a run folder that was moved)."""
    prov = row.get("provenance") or {}
    out = next((j.get("out_dir") for j in manifest["jobs"] if j["key"] == row["job_key"]), None) or row.get("out_dir")
    candidates = [prov.get("checkpoint"), out]
    parts = Path(out).parts if out else ()
    if len(parts) >= 3 and parts[-3] == "jobs":  # RUN/jobs/MODEL-HASH/DATASET-...-seedN
        candidates.append(str(run_dir.joinpath(*parts[-3:])))
    for c in candidates:
        if c and Path(c).exists():
            return c
    raise MissingAsset(f"the checkpoint of {row['model']} seed {row['seed']} is missing (looked for "
                       f"{', '.join(str(c) for c in candidates if c)}); the study needs it to draw the samples")


def _reals(b: Backend, row: dict, split: str, n: int, protocol: HumanProtocol, data_root: str | None
           ) -> tuple[torch.Tensor, list[str]]:
    """``n`` images drawn at random (seeded) from the split, uint8 at native resolution: the whole training split,
    or the run's reference images (the first ``ref_samples`` of its reference split)."""
    ds = b.get_dataset(row["dataset"], split, root=data_root)
    ds = getattr(ds, "native", ds)
    available = len(ds) if protocol.reals == "train" else min(len(ds), int(row.get("ref_samples") or len(ds)))
    if available < n:
        what = "training split" if protocol.reals == "train" else "run's reference"
        raise BadInput(f"the {what} has {available} images; the study's pools need {n} per side (lower --pool or "
                       "--qualification-pool)")
    idx = torch.randperm(len(ds) if protocol.reals == "train" else available,
                         generator=torch.Generator().manual_seed(protocol.seed))[:n]
    return ds.uint8(idx), [f"{row['dataset']}/{split} image {int(i)}" for i in idx]


def _fakes(b: Backend, rows: list[dict], checkpoints: list[str], n: int, seed: int, device: str | None,
           data_root: str | None) -> tuple[torch.Tensor, list[str]]:
    """``n`` generated images, an equal share from each ok seed: its first samples (those of its evaluation set,
    then on with the same seed when the share is larger)."""
    share = math.ceil(n / len(rows))
    out, sources = [], []
    for row, ckpt in zip(rows, checkpoints):
        prov = row.get("provenance") or {}
        view = stored_view(prov, b.get_dataset(row["dataset"], row["split"], root=data_root))
        G = b.load_generator(ckpt, device=device)
        sample_seed = int(prov.get("sample_seed", row["seed"]))
        out.append(view.to_native(b.sample(G, share, seed=sample_seed, device=device).images).cpu())
        sources += [f"{row['model']} seed {row['seed']} sample {i} (sample seed {sample_seed})" for i in range(share)]
    images = torch.cat(out)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed + 1))[:n]
    return images[order], [sources[int(i)] for i in order]


def _encode(model: str | None, truth: str, images: torch.Tensor, sources: list[str], protocol: HumanProtocol,
            progress: bool = False) -> list[tuple[str | None, str, str, str, bytes]]:
    """The first ``qualification_pool`` images become qualification images, the next ``tutorial_pool`` tutorial
    images, the rest study images."""
    t0 = time.perf_counter()
    q, t = protocol.qualification_pool, protocol.qualification_pool + protocol.tutorial_pool
    pixels = images.numpy()
    out = [(model, truth, "qualification" if i < q else ("tutorial" if i < t else "study"), src, encode_png(img))
           for i, (img, src) in enumerate(zip(pixels, sources))]
    _log(f"encoded {len(out)} {model or 'real'} images as PNG in {time.perf_counter() - t0:.1f} s", progress)
    return out


def _stored_shape(ref: StudyRef) -> tuple[int, int, int] | None:
    """The shape of the study's stored real images (None when none are stored yet)."""
    with ref.store.read() as con:
        png = human_store.a_real_png(con, ref.key)
    if png is None:
        return None
    im = Image.open(io.BytesIO(png))
    return (len(im.getbands()), im.height, im.width)


def _insert(ref: StudyRef, images: list, protocol: HumanProtocol, dataset: str) -> None:
    """Store the new pools in one transaction; a pool another process stored meanwhile wins (ours is dropped)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    with ref.store.write() as con:
        human_store.insert_study(con, ref.key, str(ref.run_dir.resolve()), dataset,
                                 json.dumps(dataclasses.asdict(protocol)), now)
        present = human_store.image_models(con, ref.key)
        human_store.insert_images(con, ref.key, [(secrets.token_hex(8), m, truth, role, src, png)
                                                 for m, truth, role, src, png in images if m not in present], now)
