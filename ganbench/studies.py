"""Studies: named protocols that fix a whole comparison (models, budget, datasets), with the paper's published
figures to hold ours against and, where the study has one, how ``ganbench search`` tunes each model.

A study names a budget of ``config.BUDGETS``; the runner (``ganbench run --protocol NAME``), the search and the
leaderboard script read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import BadInput


@dataclass(frozen=True)
class Published:
    """A published figure to print beside ours: mean ± spread, and where it comes from."""

    value: float
    spread: float
    source: str


@dataclass(frozen=True)
class SearchProtocol:
    """How ``ganbench search`` tunes a model: K seeded trials from a search space, successive halving (Optuna's
    ``SuccessiveHalvingPruner``, asynchronous: ASHA) over rungs at ``min_kimg * reduction**k`` up to the trial
    length, each rung scored by a registry metric at ``rung_samples`` against a validation split held out of the
    training images; the chosen setting is then re-run with ``rerun_seeds`` under the study's own budget."""

    space: str = "lucic2018-wide"  # a shipped space (ganbench/spaces/NAME.yaml) or a .yaml path
    trials: int = 16  # K per model; trial 0 is the model's own setting (compare_gan includes its defaults)
    seed: int = 0  # draws trial k's values from a sampler seeded (seed, model, k): the same trials on every run
    min_kimg: float = 40.0  # the first rung
    reduction: int = 5  # eta: about 1 in eta trials goes on at each rung
    max_kimg: float | None = None  # a trial's full length; None: the study budget's kimg
    rung_metric: str = "fid"
    rung_samples: int = 2000  # generated images per rung score
    validation: int = 10_000  # the last images of the training split, never trained on by the trials
    select_on: str = "validation"  # or "test": the paper's own choice (it selects on the test set)
    rerun_seeds: tuple[int, ...] = (1, 2, 3)  # seeds the chosen setting is re-run with (not the trials' own)
    trial_seed: int = 0  # every trial trains with this seed (compare_gan's phase 1: tf_seed 0)

    def rungs(self, kimg: float) -> list[float]:
        """Training lengths at which a trial of ``kimg`` is scored: min_kimg * reduction**k below kimg, then kimg."""
        out, x = [], self.min_kimg
        while x < kimg - 1e-9:
            out.append(round(x, 6))
            x *= self.reduction
        return [*out, kimg]


SELECT_ON = ("validation", "test")


@dataclass(frozen=True)
class Study:
    """A named protocol that fixes a whole comparison: the models, the budget (training length, data
    view, evaluation) and the datasets, with the paper's published figures to hold ours against."""

    name: str
    description: str
    paper: str
    models: tuple[str, ...]  # baseline names, in table order
    budget: str  # a key of BUDGETS
    datasets: tuple[str, ...]  # the first is the default
    #: {dataset: {model: Published}}
    published: dict = field(default_factory=dict)
    #: The paper's label of each model, for the leaderboard (e.g. lucic-ns -> NS).
    labels: dict = field(default_factory=dict)
    note: str = ""  # a sentence for table headers: how our setting differs from the paper's
    #: The differences from the paper's code kept on purpose (every other one is fixed and pinned by a test), for
    #: the headers of the study's tables.
    kept: str = ""
    #: The leaderboard's seeds per model where they differ from seed 0 alone, {model: seeds}
    #: (``scripts/make_leaderboard.py --protocol NAME`` without ``--seeds``).
    seeds: dict = field(default_factory=dict)
    #: How ``ganbench search --protocol NAME`` tunes each model (None: the study has no search).
    search: SearchProtocol | None = None

    def leaderboard_models(self) -> list[str]:
        """The study's models in table order."""
        return list(self.models)

    def published_for(self, dataset: str, model: str) -> Published | None:
        """The paper's figure to hold ``model`` against."""
        return self.published.get(dataset, {}).get(model)


_LUCIC_T2 = "Lucic et al. 2018, table 2 (best FID of a 100-setting search, mean ± std over 50 seeds)"
STUDIES: dict[str, Study] = {
    s.name: s
    for s in (
        Study(
            "lucic2018",
            "Are GANs Created Equal? Six losses on one net, one budget, one evaluation",
            "Lucic, Kurach, Michalski, Gelly & Bousquet 2018, NeurIPS (arXiv:1711.10337); code: google/compare_gan v1",
            models=("lucic-mm", "lucic-ns", "lucic-lsgan", "lucic-wgan", "lucic-wgan-gp", "lucic-dragan"),
            budget="lucic2018",
            datasets=("fashion-mnist", "mnist"),
            labels={"lucic-mm": "MM GAN", "lucic-ns": "NS GAN", "lucic-lsgan": "LSGAN", "lucic-wgan": "WGAN",
                    "lucic-wgan-gp": "WGAN-GP", "lucic-dragan": "DRAGAN"},
            published={
                "fashion-mnist": {
                    "lucic-mm": Published(29.6, 1.6, _LUCIC_T2), "lucic-ns": Published(26.5, 1.6, _LUCIC_T2),
                    "lucic-lsgan": Published(30.7, 2.2, _LUCIC_T2), "lucic-wgan": Published(21.5, 1.6, _LUCIC_T2),
                    "lucic-wgan-gp": Published(24.5, 2.1, _LUCIC_T2),
                    "lucic-dragan": Published(27.7, 1.2, _LUCIC_T2),
                },
                "mnist": {
                    "lucic-mm": Published(9.8, 0.9, _LUCIC_T2), "lucic-ns": Published(6.8, 0.5, _LUCIC_T2),
                    "lucic-lsgan": Published(7.8, 0.6, _LUCIC_T2), "lucic-wgan": Published(6.7, 0.4, _LUCIC_T2),
                    "lucic-wgan-gp": Published(20.3, 5.0, _LUCIC_T2),
                    "lucic-dragan": Published(7.6, 0.4, _LUCIC_T2),
                },
            },
            note="Default-setting rows: each loss at compare_gan's default hyperparameters (params.py; trial 0 of "
                 "the search), not the paper's 100-setting search, so the published figures (the best of that "
                 "search) are a lower bound to hold them against; with default settings the paper's best "
                 "Fashion-MNIST model reached about 32 (its figure 4). The search's rows are in the "
                 "fashion-mnist-lucic2018-search leaderboard (ganbench search --protocol lucic2018).",
            kept="torch's batch norm keeps an unbiased running variance where TF's non-fused one keeps the biased one "
                 "(a factor 64/63 on the FC layers' eval-mode variance); torch's Adam adds its epsilon to the "
                 "bias-corrected root of v where TF's adds it before the correction, so TF's effective epsilon is "
                 "1/sqrt(1 - beta2^t) times larger (32x at the first step, 1.26x at step 1000): steps differ by under "
                 "2% but for the first G steps of WGAN (and WGAN-GP's first), whose gradients are near 1e-7 (TF's are "
                 "0.04, 0.86, 0.95 and 0.998 of torch's at G steps 1, 10, 100 and 1000: "
                 "scripts/check_compare_gan_tf.py --adam, --step, "
                 "--grad-scale); kept so that every loss of the study trains with one optimiser; fakes are quantised "
                 "to uint8 before Inception where compare_gan feeds floats; compare_gan's loop makes one extra G "
                 "update at its first step; and its WGAN clip races the Adam step (tf.group), losing some tensors' "
                 "updates in some steps: ganbench clips before each step, the order TF ran most often",
            # The paper's wide range with K = 16 trials per loss (it drew 100), ASHA from 40 kimg by 5 (rungs at 40,
            # 200 and 1000 kimg) on FID at 2,000 samples vs 10,000 training images held out as validation; the
            # chosen setting re-run with 3 new seeds under the lucic2018 budget (the paper re-ran 50).
            search=SearchProtocol(),
        ),
    )
}


def get_study(name: str) -> Study:
    if name not in STUDIES:
        raise BadInput(f"unknown protocol {name!r}; known protocols: {', '.join(STUDIES)}")
    return STUDIES[name]
