"""Does a generator copy its training images? The data-copying test C_T (Meehan, Chaudhuri & Dasgupta 2020,
"A Non-Parametric Test to Detect Data-Copying in Generative Models", AISTATS; code: casey-meehan/data-copying,
``data_copying_tests.py``).

The training set T is cut into cells by k-means. In each cell, the distances of held-out real images P_n and of
generated ones Q_m to their nearest training image of that cell are compared by a Mann-Whitney U test, Z-scored
under the null hypothesis (``Zu``: U counts the pairs where the generated distance is the larger, ties a half;
Z = (U - (nm/2 - 0.5)) / sqrt(nm(n + m + 1)/12)). C_T is the average of the cells' Z weighted by their share of
P_n, over the cells holding more than tau = 20/m of the generated samples. C_T << 0: generated images sit closer
to the training images than real unseen ones do (copying); >> 0: farther (underfitting). ganbench flags copying
below -3. Here the held-out set is the evaluation's reference (the test split), in the ``--features`` space.
"""

from __future__ import annotations

import math

import torch

from .networks.base import space_feature, space_name
from .registry import Column, Context, Unavailable, metric

CELLS = 20  # k-means cells of the training set
MIN_GENERATED = 20  # tau = MIN_GENERATED / m, the reference's experiments' choice
THRESHOLD = -3.0  # C_T below this: flagged as copying
KMEANS_ITERS = 50


def kmeans(x: torch.Tensor, k: int, seed: int = 0, iters: int = KMEANS_ITERS) -> torch.Tensor:
    """Centroids ``(k, D)`` of ``x`` by Lloyd's algorithm from a seeded k-means++ start."""
    g = torch.Generator().manual_seed(seed)
    x = x.float()
    centres = [x[torch.randint(len(x), (1,), generator=g)]]
    d2 = torch.cdist(x, centres[0]).squeeze(1) ** 2
    for _ in range(1, k):
        centres.append(x[torch.multinomial(d2 / d2.sum(), 1, generator=g)])
        d2 = torch.minimum(d2, torch.cdist(x, centres[-1]).squeeze(1) ** 2)
    c = torch.cat(centres)
    for _ in range(iters):
        labels = assign(x, c)
        new = torch.stack([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)])
        if torch.allclose(new, c):
            break
        c = new
    return c


def assign(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """The nearest centre of each row (chunked: no N x k x D tensor)."""
    return torch.cat([torch.cdist(x[i:i + 4096].float(), centres).argmin(1) for i in range(0, len(x), 4096)])


def nearest_distance(q: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Euclidean distance of each row of ``q`` to its nearest row of ``t``, float64."""
    t = t.double()
    return torch.cat([torch.cdist(q[i:i + 2048].double(), t).min(1).values for i in range(0, len(q), 2048)])


def z_u(l_test: torch.Tensor, l_gen: torch.Tensor) -> float:
    """The Z-scored Mann-Whitney U of generated vs test distances (data_copying_tests.py ``Zu``)."""
    n, m = len(l_test), len(l_gen)
    s = torch.sort(l_test).values
    below = torch.searchsorted(s, l_gen, right=False)  # test distances < each generated one
    ties = torch.searchsorted(s, l_gen, right=True) - below
    u = float(below.sum()) + 0.5 * float(ties.sum())
    return (u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12)


def c_t(train: torch.Tensor, test: torch.Tensor, generated: torch.Tensor, cells: int = CELLS,
        min_generated: int = MIN_GENERATED, seed: int = 0) -> float:
    """C_T of ``generated`` against ``train``, with ``test`` as the held-out real sample (data_copying_tests.py
    ``C_T``); cells without test images carry no weight and are left out."""
    centres = kmeans(train, cells, seed)
    t_cell, p_cell, q_cell = assign(train, centres), assign(test, centres), assign(generated, centres)
    n, m = len(test), len(generated)
    tau = min_generated / m
    num = den = 0.0
    for j in range(cells):
        pn, qm = (p_cell == j).sum().item(), (q_cell == j).sum().item()
        if pn == 0 or qm / m <= tau:
            continue
        t = train[t_cell == j]
        z = z_u(nearest_distance(test[p_cell == j], t), nearest_distance(generated[q_cell == j], t))
        num += pn / n * z
        den += pn / n
    if den == 0:
        raise Unavailable(f"no cell holds more than {min_generated} generated samples; give more samples")
    return num / den


@metric("ct", columns=(Column("ct", "C_T (< -3: copies)", "neither", spaced="C_T ({space}; < -3: copies)"),
                       Column("copying", "copies training images")),
        features=lambda p: (space_feature(p),), space=space_name, needs_train=True,
        description="data-copying test C_T (Meehan et al. 2020): generated vs held-out distances to the training set, "
                    "per k-means cell; < -3 flags copying; needs the training images (--train)")
def _ct(ctx: Context) -> dict[str, float]:
    f = space_feature(ctx.protocol)
    value = c_t(ctx.train_features(f), ctx.ref_features(f), ctx.samples.features[f], seed=ctx.protocol.seed)
    return {"ct": value, "copying": float(value < THRESHOLD)}
