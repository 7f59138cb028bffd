"""Improved precision/recall (Kynkaanniemi et al. 2019) and density/coverage (Naeem et al. 2020).

Each sample gets a k-NN ball (radius: distance to its k-th nearest neighbour within its own set,
itself excluded). Precision: share of fake samples inside some real ball; recall: share of real
samples inside some fake ball (``<=``, as torch-fidelity). Density counts real balls around each
fake sample / k; coverage: share of real balls holding some fake sample (``<``, as Naeem et al.).
Distances are float64 and computed in row chunks, so 50k x 50k never sits in memory at once.
"""

from __future__ import annotations

import torch

from ..errors import BadInput
from .networks.base import space_feature, space_name
from .registry import Column, Context, metric, needs_images

#: Elements per distance chunk (rows x columns): 2^25 float64 = 256 MiB.
CHUNK_ELEMENTS = 1 << 25


def _row_chunks(n_rows: int, n_cols: int, budget: int = CHUNK_ELEMENTS):
    step = max(1, budget // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def knn_radii(x: torch.Tensor, ks: tuple[int, ...]) -> dict[int, torch.Tensor]:
    """Distance ``(N,)`` of each row of ``x`` to its k-th nearest other row, for each k in ``ks``."""
    kmax = max(ks)
    if x.shape[0] <= kmax:
        raise BadInput(f"k-NN radii with k={kmax} need more than {kmax} samples per set, got {x.shape[0]}")
    parts = []
    for rows in _row_chunks(x.shape[0], x.shape[0]):
        parts.append(torch.cdist(x[rows], x).topk(kmax + 1, dim=1, largest=False).values)  # column 0: itself
    d = torch.cat(parts)
    return {k: d[:, k] for k in ks}


def _prepare(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise BadInput(f"need two feature sets (N, D) of equal D, got {tuple(real.shape)} and {tuple(fake.shape)}")
    return real.double(), fake.double().to(real.device)


def prdc(real: torch.Tensor, fake: torch.Tensor, pr_k: int | None = 3, dc_k: int | None = 5) -> dict[str, float]:
    """Precision/recall (``pr_k``) and density/coverage (``dc_k``) of features ``(N_real, D)``, ``(N_fake, D)``.

    Either k may be None to skip its pair; both pairs share one pass over the distances.
    """
    real, fake = _prepare(real, fake)
    real_ks = tuple(k for k in (pr_k, dc_k) if k)
    r_real = knn_radii(real, real_ks)
    out: dict[str, float] = {}
    precise = torch.zeros(fake.shape[0], dtype=torch.bool, device=fake.device)
    density = torch.zeros((), dtype=torch.float64, device=fake.device)
    nearest_fake = []
    for rows in _row_chunks(fake.shape[0], real.shape[0]):  # fake rows x real columns
        d = torch.cdist(fake[rows], real)
        if pr_k:
            precise[rows] = (d <= r_real[pr_k]).any(1)
        if dc_k:
            density += (d < r_real[dc_k]).sum()
    r_fake = knn_radii(fake, (pr_k,))[pr_k] if pr_k else None
    recalled = torch.zeros(real.shape[0], dtype=torch.bool, device=real.device)
    for rows in _row_chunks(real.shape[0], fake.shape[0]):  # real rows x fake columns
        d = torch.cdist(real[rows], fake)
        if pr_k:
            recalled[rows] = (d <= r_fake).any(1)
        if dc_k:
            nearest_fake.append(d.min(1).values)
    if pr_k:
        out["precision"] = float(precise.double().mean())
        out["recall"] = float(recalled.double().mean())
    if dc_k:
        out["density"] = float(density / (dc_k * fake.shape[0]))
        out["coverage"] = float((torch.cat(nearest_fake) < r_real[dc_k]).double().mean())
    return out


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall of fake features against real ones, k-NN balls with ``k``."""
    r = prdc(real, fake, pr_k=k, dc_k=None)
    return r["precision"], r["recall"]


def density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 5) -> tuple[float, float]:
    """Density and coverage of fake features against real ones, k-NN balls of the real set with ``k``."""
    r = prdc(real, fake, pr_k=None, dc_k=k)
    return r["density"], r["coverage"]


#: EvalProtocol.pr_features: "inception-pool3" (the default: the protocol's --features space) or "vgg16".
PR_SPACES = {"inception-pool3": "pool3", "vgg16": "vgg16"}


def pr_feature(p) -> str:
    """The feature precision/recall and density/coverage read: VGG16 fc2 when ``pr_features`` says so, else the
    protocol's ``--features`` space (Inception pool3 by default)."""
    return "vgg16" if p.pr_features == "vgg16" else space_feature(p)


def _space(p) -> tuple[str, ...]:
    return (pr_feature(p),)


def _label(p) -> str:
    return "vgg16" if p.pr_features == "vgg16" else space_name(p)


_COST = "; keeps every feature: N x D floats per side (50k x 2048 = 400 MB) and k-NN over N x N distances"


@metric("pr", columns=(Column("precision", "Precision", "higher", digits=3, spaced="Precision ({space})",
                              bounds=(0, 1)),
                       Column("recall", "Recall", "higher", digits=3, spaced="Recall ({space})", bounds=(0, 1))),
        features=_space, space=_label, description="improved precision/recall (Kynkaanniemi et al. 2019), k=3" + _COST)
def _pr(ctx: Context) -> dict[str, float]:
    space = pr_feature(ctx.protocol)
    r = prdc(ctx.ref_features(space), ctx.samples.features[space], pr_k=ctx.protocol.pr_k, dc_k=None)
    return {"precision": r["precision"], "recall": r["recall"]}


@metric("dc", columns=(Column("density", "Density", "higher", digits=3, spaced="Density ({space})", bounds=(0, None)),
                       Column("coverage", "Coverage", "higher", digits=3, spaced="Coverage ({space})", bounds=(0, 1))),
        features=_space, space=_label, description="density/coverage (Naeem et al. 2020), k=5" + _COST)
def _dc(ctx: Context) -> dict[str, float]:
    space = pr_feature(ctx.protocol)
    r = prdc(ctx.ref_features(space), ctx.samples.features[space], pr_k=None, dc_k=ctx.protocol.dc_k)
    return {"density": r["density"], "coverage": r["coverage"]}


needs_images("pr", lambda p: p.pr_k + 1)  # a k-NN radius needs k other points
needs_images("dc", lambda p: p.dc_k + 1)
