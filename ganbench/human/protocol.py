"""A human study's protocol: the settings of a HYPE∞ or HYPE_time study, the paper's by default, checked before any
work and recorded with every score.

The human layer is the only one that reads a whole protocol (the pools, the sessions, the score, ``ganbench human``);
what the layers below need of it is theirs: how an interval resamples is ``metrics.hype.BOOTSTRAPS``, and the
staircase's range of exposures is ``metrics.hype_time.HYPE_TIME_RANGE_MS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import MAX_COUNT
from ..errors import BadInput
from ..metrics.hype import BOOTSTRAPS
from ..metrics.hype_time import HYPE_TIME_RANGE_MS

#: Where a study's real images come from: "train" (the dataset's training split, as the paper) or "reference"
#: (the images the run's metrics used as their reference, its test split: ganbench's choice before issue 21).
HUMAN_REALS = ("train", "reference")
#: Which HYPE a study measures: HYPE∞ (no time limit, the share judged wrong) or HYPE_time (timed exposures on
#: an adaptive staircase, the exposure at which people tell the images apart).
HUMAN_VARIANTS = ("infinity", "time")
#: Tutorial images per side drawn when a tutorial is asked for and no tutorial pool is given.
HUMAN_TUTORIAL_POOL = 50


@dataclass(frozen=True)
class HumanProtocol:
    """A HYPE study (Zhou et al. 2019, "HYPE: A Benchmark for Human eYe Perceptual Evaluation of Generative
    Models", NeurIPS): real-vs-fake judgements, one image at a time; HYPE∞ with no time limit (``variant``
    "infinity"), HYPE_time with timed exposures on a staircase ("time"). The defaults are the paper's; recorded with
    every score."""

    images: int = 100  # per evaluator, half real and half generated, shuffled: HYPE∞'s 50 real + 50 fake
    # The paper's qualification: a separate test before the study, half real and half fake (the fakes drawn from
    # every model of the study), no feedback; an evaluator goes on with pass_rate of its reals AND of its fakes
    # right, else is thanked and left out. 0: none.
    qualification: int = 100
    pass_rate: float = 0.65  # the paper's threshold (a random guesser passes 100 images about 1 time in 3,700)
    # Tutorial images with feedback before the qualification (not in the paper; ganbench's earlier gate), half real
    # and half fake, never scored. Without a qualification, the tutorial gates at pass_rate instead.
    tutorial: int = 0
    pool: int = 5000  # study images per model, and real ones: the paper's pools of 5,000 real and 5,000 generated
    qualification_pool: int = 500  # qualification images per model, and real ones, kept apart from the study's
    tutorial_pool: int = 0  # tutorial images per model, and real ones, kept apart from the others
    reals: str = "train"  # where real images come from: HUMAN_REALS
    bootstrap: str = "evaluators"  # how the interval resamples: metrics.hype.BOOTSTRAPS
    replicates: int = 10_000  # bootstrap replicates of the confidence interval (the paper's 10,000)
    confidence: float = 0.95
    seed: int = 0  # which images enter the pools, each evaluator's draw (with its ordinal), the bootstrap's seed
    evaluators: int = 30  # evaluators per model the paper recruits (its CIs settle near 30); a target, not a limit
    variant: str = "infinity"  # HUMAN_VARIANTS: HYPE∞, or HYPE_time's timed study images
    # HYPE_time (the study images only; the qualification and tutorial stay untimed): each image after a fixation
    # cross, for an exposure on the staircase's ladder (metrics.hype_time.Staircase: 100 to 1,000 ms, the paper's
    # range), then a backward mask of random noise; the answer comes after the mask, with no time limit.
    start_ms: float = 500.0
    step_ms: float = 30.0
    fixation_ms: float = 500.0
    mask_ms: float = 120.0  # 4 noise patterns of 30 ms each

    @property
    def gate(self) -> str | None:
        """The phase that admits evaluators: the qualification, else the tutorial, else none."""
        return "qualification" if self.qualification else ("tutorial" if self.tutorial else None)


def check_human(p: HumanProtocol) -> HumanProtocol:
    """``p`` with every setting checked, each message naming its command-line option, before any work."""
    for name in ("images", "qualification", "tutorial"):
        n = getattr(p, name)
        if n < 0 or n % 2:
            raise BadInput(f"--{name} must be an even number >= 0 (half real, half fake), got {n}")
    if p.images < 2:
        raise BadInput(f"--images must be at least 2 (one real, one fake), got {p.images}")
    for name in ("pool", "qualification_pool", "tutorial_pool"):
        if getattr(p, name) < 0:
            raise BadInput(f"--{name.replace('_', '-')} must be >= 0, got {getattr(p, name)}")
    for name, n, pool in (("images", p.images, p.pool), ("qualification", p.qualification, p.qualification_pool),
                          ("tutorial", p.tutorial, p.tutorial_pool)):
        if pool < n // 2:
            flag = {"images": "--pool", "qualification": "--qualification-pool", "tutorial": "the tutorial pool"}[name]
            raise BadInput(f"{flag} {pool} is smaller than half of --{name} {n} (each side needs {n // 2})")
    if p.reals not in HUMAN_REALS:
        raise BadInput(f"--reals must be one of {', '.join(HUMAN_REALS)}, got {p.reals!r}")
    if p.bootstrap not in BOOTSTRAPS:
        raise BadInput(f"--bootstrap must be one of {', '.join(BOOTSTRAPS)}, got {p.bootstrap!r}")
    if not 1 <= p.replicates <= MAX_COUNT:
        raise BadInput(f"--replicates must be at least 1 and at most {MAX_COUNT:,}, got {p.replicates:,}")
    if not 0 < p.pass_rate <= 1 or not 0 < p.confidence < 1:
        raise BadInput(f"pass_rate must be in (0, 1] and confidence in (0, 1), got {p.pass_rate}, {p.confidence}")
    if p.seed < 0:
        raise BadInput(f"--seed must be >= 0, got {p.seed}")
    if p.variant not in HUMAN_VARIANTS:
        raise BadInput(f"--variant must be one of {', '.join(HUMAN_VARIANTS)}, got {p.variant!r}")
    lo, hi = HYPE_TIME_RANGE_MS
    if not lo <= p.start_ms <= hi:
        raise BadInput(f"--start-ms must lie in the staircase's range [{lo:.0f}, {hi:.0f}] ms, got {p.start_ms:g}")
    if not 0 < p.step_ms <= hi - lo:
        raise BadInput(f"--step-ms must be > 0 and at most {hi - lo:.0f} ms, got {p.step_ms:g}")
    if not 0 <= p.fixation_ms <= 5000 or not 0 <= p.mask_ms <= 5000:
        raise BadInput(f"--fixation-ms and --mask-ms must lie in [0, 5000] ms, got {p.fixation_ms:g}, {p.mask_ms:g}")
    return p


DEFAULT_HUMAN = HumanProtocol()
