"""The dataclasses every layer passes around, with their defaults: the evaluation protocol, the budgets, the
model-spec schema, and the trainer's and the toy benchmark's constants. Studies and their published figures are
``studies.py``; a human study's protocol is ``human/protocol.py``.

Specs are dataclasses loaded strictly from YAML: an unknown key, a wrong type or an
impossible combination is a ``BadInput`` at load time, never a surprise mid-training.
Each result records the dataclasses it was produced with (``asdict``), so a table
column always means one thing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BadInput


def added(default: Any) -> Any:
    """A field added after results were stored: hashes (job keys, spec hashes) leave it out while it holds
    ``default``, the behaviour from before it existed, so adding an option never orphans stored results.
    Never change such a default later (that would alias old keys); add another field instead."""
    return field(default=default, metadata={"added": True})


def hash_dict(obj: Any) -> Any:
    """``dataclasses.asdict`` for hashing: fields made with :func:`added` are left out while at their default."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: hash_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)
                if not (f.metadata.get("added") and getattr(obj, f.name) == f.default)}
    if isinstance(obj, (list, tuple)):
        return [hash_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: hash_dict(v) for k, v in obj.items()}
    return obj

# --------------------------------------------------------------------------- data
#: Resolution the conv nets train at; 28x28 datasets are padded to it (recorded as a transform).
CONV_RESOLUTION = 32
#: How a 28x28 dataset is brought to CONV_RESOLUTION: "pad" (zero border, keeps pixels) or "resize".
DEFAULT_RESOLUTION_MODE = "pad"
#: Default dataset of `ganbench run`.
DEFAULT_DATASET = "fashion-mnist"
#: Where `ganbench run` puts run folders, and its SQLite results store.
DEFAULT_RUNS_DIR = Path("runs")
DEFAULT_STORE = DEFAULT_RUNS_DIR / "results.sqlite"
#: Times a failed job is tried again before it is recorded as ``failed`` (``ganbench run --retries``).
DEFAULT_RETRIES = 2
#: Bounds on what one argument can multiply work into: a typo such as --seeds 0-100000000 is a one-line error,
#: never gigabytes of job objects. Larger sweeps are several commands (they share one store).
MAX_SEEDS = 1000
MAX_JOBS = 10_000  # models x seeds (x grid cells) of one run, trials x models of one search
#: Upper bounds of evaluation settings that multiply work (KID subsets, bootstrap replicates, ...).
MAX_COUNT = 1_000_000


# ------------------------------------------------------------------------ metrics
@dataclass(frozen=True)
class EvalProtocol:
    """How samples become numbers. Everything here changes the figures and is recorded."""

    metrics: tuple[str, ...] = ("fid", "kid", "is", "pr", "dc")  # also "fid_inf", "is_inf" (Chong & Forsyth 2020)
    num_samples: int = 10_000  # generated samples (a finite sample set is used whole unless num_samples is given)
    ref_split: str = "test"
    ref_samples: int | None = None  # None: same as num_samples (capped at the split's size)
    resize_mode: str = "tf1"  # "tf1": torch-fidelity's TF1 bilinear; "clean": clean-fid's PIL bicubic
    feature_batch_size: int = 32  # handed to a network at once (Inception on a CPU: 16 at a time)
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # capped at the smaller set
    kid_degree: int = 3  # polynomial kernel (x.y / D + 1)^degree
    pr_k: int = 3  # Kynkaanniemi et al. 2019
    dc_k: int = 5  # Naeem et al. 2020
    pr_features: str = "inception-pool3"  # or "vgg16" (torch-fidelity's fc2_relu; StyleGAN2-ADA's pr50k3)
    is_splits: int = 10
    infinity_points: int = 15  # FID/IS-infinity: subset sizes from infinity_min_fraction * N to N
    infinity_min_fraction: float = 0.1
    allow_tf32: bool = False  # CUDA: TF32 convolutions/matmuls are faster but change the features
    seed: int = 0  # KID subsets, IS shuffle, sample latents
    #: The feature space of FD, KID, precision/recall and density/coverage: a network of metrics.networks
    #: ("inception", "dinov2", "clip", "fmnist", ...). Precision/recall keep pr_features when it says vgg16.
    features: str = added("inception")
    #: Training images a memorization test (ct) reads: None, as many as the reference.
    train_samples: int | None = added(None)


DEFAULT_PROTOCOL = EvalProtocol()

#: The command-line option of each EvalProtocol field that has one (for error messages).
PROTOCOL_OPTIONS = {"num_samples": "--num-samples", "ref_samples": "--ref-samples", "feature_batch_size": "--batch-size",
                    "kid_subsets": "--kid-subsets", "kid_subset_size": "--kid-subset-size", "seed": "--seed"}


def check_protocol(p: EvalProtocol) -> EvalProtocol:
    """``p`` with every number checked (a count >= its least meaningful value, a fraction in (0, 1]), so that a bad
    setting is a ``BadInput`` before any work, never a crash or a silently different number mid-evaluation."""
    least = {"num_samples": 2, "feature_batch_size": 1, "kid_subsets": 1, "kid_subset_size": 2, "kid_degree": 1,
             "pr_k": 1, "dc_k": 1, "is_splits": 1, "infinity_points": 2}
    for name, low in {**least, "ref_samples": 2, "seed": 0}.items():
        value = getattr(p, name)
        if name in ("kid_subsets", "is_splits", "infinity_points", "pr_k", "dc_k") and isinstance(value, int) \
                and value > MAX_COUNT:
            opt = f" ({PROTOCOL_OPTIONS[name]})" if name in PROTOCOL_OPTIONS else ""
            raise BadInput(f"{name}{opt} must be at most {MAX_COUNT:,}, got {value:,}")
        if name == "ref_samples" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            opt = f" ({PROTOCOL_OPTIONS[name]})" if name in PROTOCOL_OPTIONS else ""
            raise BadInput(f"{name}{opt} must be an integer >= {low}, got {value!r}")
    f = p.infinity_min_fraction
    if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 < f <= 1:
        raise BadInput(f"infinity_min_fraction must be in (0, 1], got {f!r}")
    return p


# ------------------------------------------------------------------------ budgets
@dataclass(frozen=True)
class Budget:
    """Training length and evaluation size, named so a table header can say which was used.

    ``kimg`` counts thousands of real images shown to the discriminator, the same for every
    model (a WGAN with n_critic=5 thus makes 5x fewer generator steps than a DCGAN).
    """

    name: str
    kimg: float
    num_samples: int
    ref_samples: int
    ref_split: str = "test"
    eval_every_kimg: float | None = None
    description: str = ""
    #: How the nets see 28x28 data: "pad32" (conv nets train on a zero-padded 32x32 view, samples are
    #: cropped back) or "native" (every net at the dataset's own resolution; Lucic et al. 2018).
    view: str = added("pad32")
    #: Generated (and reference) images per point of the FID-vs-kimg curve (``eval_every_kimg``);
    #: cheaper than the final evaluation, so the curve is biased upward and compared only with itself.
    curve_samples: int = added(1000)
    #: Add a real-data row (training images vs the reference, same N): the floor the table reads against.
    real_row: bool = added(True)
    #: The split the models train on: "train", or a slice of it that leaves a validation split out
    #: ("train[:50000]", the search's trials).
    train_split: str = added("train")


BUDGETS: dict[str, Budget] = {
    b.name: b
    for b in (
        # Sized for `ganbench run --models dcgan,wgan` on 2 CPU cores in <= 10 min, first run included: the nets
        # at native 28x28 (2.3x fewer FLOPs than the padded 32x32 view) for QUICK kimg each, then 1000 reference,
        # 1000 real-row and 2 x 1000 sample images through Inception. DCGAN's FID at N=1000 falls from 165 at
        # 40 kimg to 69 at 200 kimg (native view, seed 0; the curve is in the README). Check the time
        # with scripts/bench_quick_budget.py.
        Budget(
            "quick", kimg=200, num_samples=1000, ref_samples=1000, view="native",
            description="CPU benchmark, two models in under 10 min on 2 cores, nets at native 28x28; "
                        "FID at N=1000 is biased upward (KID is not)",
        ),
        # The quick budget on the zero-padded 32x32 view: for nets that need powers of 2 (pggan) next to the others.
        Budget(
            "quick32", kimg=200, num_samples=1000, ref_samples=1000,
            description="the quick budget with every net on the zero-padded 32x32 view (pggan's resolutions)",
        ),
        Budget(
            "standard", kimg=600, num_samples=10_000, ref_samples=10_000, eval_every_kimg=100,
            description="10 epochs of Fashion-MNIST on a GPU; FID 10k vs 10k test",
        ),
        Budget(
            "paper", kimg=1200, num_samples=10_000, ref_samples=10_000, eval_every_kimg=200,
            description="20 epochs of Fashion-MNIST at batch 64; FID on 10k samples vs 10k test images",
        ),
        # Lucic et al. 2018 ("Are GANs Created Equal?"), compare_gan v1 generate_tasks_lib.py TuneParams: 20
        # "epochs" of 50,000 images at batch 64 = 15,625 D steps = 1000 kimg (gan_lib.py trains on the whole
        # training split); FID on 10k samples vs the 10k test images (eval_gan_lib.py num_test_examples); nets at
        # the native 28x28. compare_gan saves a checkpoint every 5 * 50,000 // 64 = 3,906 D steps (250 kimg),
        # scores every one and the study reports the best: the curve evaluates every 250 kimg at the full 10k, so
        # the record holds fid (the last) and fid_best (the best of 250, 500, 750, 1000 kimg).
        Budget(
            "lucic2018", kimg=1000, num_samples=10_000, ref_samples=10_000, eval_every_kimg=250, view="native",
            curve_samples=10_000,
            description="Lucic et al. 2018: 15,625 D steps at batch 64 on the InfoGAN-style net at native 28x28; "
                        "FID on 10k samples vs the 10k test images at every 250 kimg (3,906 D steps), the last "
                        "and the best",
        ),
        # The lucic2018 budget and evaluation for nets that need powers of 2 (pggan, issue 22): trained on the
        # zero-padded 32x32 view, samples cropped back to 28x28, then scored exactly as the lucic2018 rows.
        Budget(
            "lucic2018-pad32", kimg=1000, num_samples=10_000, ref_samples=10_000, eval_every_kimg=250,
            curve_samples=10_000,
            description="the lucic2018 budget and evaluation (1000 kimg; FID on 10k samples vs the 10k test images "
                        "every 250 kimg, the last and the best) with the nets on the zero-padded 32x32 view, "
                        "samples cropped back to 28x28",
        ),
    )
}
DEFAULT_BUDGET = "quick"


VIEWS = ("pad32", "native")


def get_budget(name: str) -> Budget:
    if name not in BUDGETS:
        raise BadInput(f"unknown budget {name!r}; known budgets: {', '.join(BUDGETS)}")
    return BUDGETS[name]


# -------------------------------------------------------------------- model specs
@dataclass(frozen=True)
class ArchSpec:
    name: str = "dcgan"  # a key of ganbench.zoo.nets.NETS
    z_dim: int = 128
    width: int = 64  # base channel count (mlp: hidden sizes are multiples of it)
    variant: str = "standard"  # net-specific variant, e.g. dcgan's "infogan" (Lucic et al. 2018)
    d_norm: str = "default"  # D normalisation: "default" (the family's own), "batch", "layer" or "none"
    g_conditioning: str = added("none")  # how labels enter G: none | concat | cbn (ganbench.zoo.conditioning)
    d_conditioning: str = added("none")  # how labels enter D: none | concat | projection | ac
    z_dist: str = added("normal")  # latent distribution: "normal" N(0, I) or "uniform" U[-1, 1] (compare_gan)
    #: G's last activation, which fixes the value range the nets see pixels in: "tanh" ([-1, 1]) or "sigmoid"
    #: ([0, 1], compare_gan v1's nets on its [0, 1] data). Reals are scaled to it (zoo.view.View).
    output: str = added("tanh")


@dataclass(frozen=True)
class OptimSpec:
    name: str = "adam"  # adam | rmsprop | sgd
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)  # adam only; rmsprop/sgd ignore it


@dataclass(frozen=True)
class TrickSpec:
    spectral_norm_g: bool = False
    spectral_norm_d: bool = False
    gradient_penalty: float = 0.0  # WGAN-GP lambda (Gulrajani et al. 2017)
    r1: float = 0.0  # R1 gamma (Mescheder et al. 2018)
    dragan: float = 0.0  # DRAGAN lambda (Kodali et al. 2017)
    weight_clip: float = 0.0  # WGAN clipping c (Arjovsky et al. 2017); 0 disables
    label_smoothing: float = 0.0  # one-sided: real target 1 - s (Salimans et al. 2016)
    instance_noise: float = 0.0  # std of Gaussian noise added to D inputs (Sonderby et al. 2017)
    n_critic: int = 1  # D updates per G update
    ema: float = 0.0  # generator EMA decay; 0 disables (Karras et al. 2018, Yazici et al. 2019)
    ema_start: int = 0  # generator step at which EMA averaging starts
    diffaugment: str = ""  # comma list of translation,cutout,color (Zhao et al. 2020)
    amp: bool = False  # bfloat16 autocast of G and D's forwards where native (devices.native_bfloat16); recorded
    drift: float = added(0.0)  # epsilon-drift weight: + drift * E[D(real)^2] (Karras et al. 2018)
    ac_weight: float = added(1.0)  # weight of the auxiliary classifier's cross-entropy (d_conditioning: ac)
    #: Which D output gradient penalties differentiate: "logit" (raw output) or "sigmoid" (the probability,
    #: as compare_gan's DRAGAN does).
    penalty_output: str = added("logit")
    #: Which latents the G step feeds G: "fresh" (a new draw) or "reuse" (the last D step's, as compare_gan v1's
    #: abstract_gan.py run_single_train_step does unless the model resamples, which only WGAN_GP.py does).
    g_latents: str = added("fresh")
    #: When WGAN's clipping applies: "after_step" (each critic step's update, then the clip: Arjovsky et al. 2017,
    #: alg. 1) or "before_step" (the clip first, then the forward and the update, so the weights G sees may exceed c
    #: by one step: Arjovsky et al.'s own main.py, and compare_gan v1's WGAN.py, whose tf.group of the Adam step and
    #: clip_D does not order them; scripts/check_compare_gan_tf.py shows TF running the clip first).
    weight_clip_at: str = added("after_step")
    #: Allow a gradient penalty through batch norm in D (compare_gan's DRAGAN default, and its wide range, do it).
    #: Batch norm couples the per-sample gradients the penalty constrains (Gulrajani et al. 2017, sec. 4), so
    #: ganbench refuses the combination unless a spec sets this, and warns when it does.
    penalty_through_batch_norm: bool = added(False)
    #: The gradient norm of a penalty as sqrt(eps + sum g^2): compare_gan's WGAN_GP.py and DRAGAN.py use 1e-4;
    #: 0 is the plain norm.
    grad_norm_eps: float = added(0.0)
    #: LeCam regularisation weight (Tseng et al. 2021; 0.3 in their BigGAN CIFAR-10 runs); 0 disables.
    lecam: float = added(0.0)
    #: Balanced consistency regularisation weight, lambda_real = lambda_fake (Zhao et al. 2021 use 10); 0 disables.
    bcr: float = added(0.0)
    #: Adaptive augmentation target r_t for E[sign(D(real))] (Karras et al. 2020 use 0.6), gating the diffaugment
    #: ops per image with a strength p tuned during training; 0 disables (the ops then apply always).
    ada_target: float = added(0.0)


@dataclass(frozen=True)
class ModelSpec:
    """A baseline: net + loss + tricks + optimisers. YAML files in baselines/ are these."""

    name: str
    description: str = ""
    paper: str = ""
    arch: ArchSpec = field(default_factory=ArchSpec)
    loss: str = "ns"  # a key of ganbench.zoo.losses.LOSSES
    tricks: TrickSpec = field(default_factory=TrickSpec)
    optim_g: OptimSpec = field(default_factory=OptimSpec)
    optim_d: OptimSpec = field(default_factory=OptimSpec)
    batch_size: int = 64
    schedule: str = added("constant")  # a key of ganbench.zoo.schedules.SCHEDULES (progress -> phase)
    #: ``progressive``: the share of the run each fade-in and each stabilisation below the full resolution takes, the
    #: full resolution training the rest (the official code: 600 of 12,000 kimg, 0.05); 0 splits the run evenly
    #: over its phases (the only plan before this field existed).
    schedule_phase_share: float = added(0.0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def hash(self) -> str:
        """Stable hash of everything that changes training (the name and prose excluded)."""
        d = hash_dict(self)
        for k in ("name", "description", "paper"):
            d.pop(k)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------- training
#: Latent distributions a spec may draw z from (arch.z_dist).
LATENT_DISTRIBUTIONS = ("normal", "uniform")
#: G's output activation (arch.output) -> the value range of the pixels the nets see (reals are scaled to it).
OUTPUT_RANGES: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
#: Where the G step's latents come from (tricks.g_latents).
G_LATENTS = ("fresh", "reuse")
WEIGHT_CLIP_AT = ("after_step", "before_step")
#: Trainer intervals, in generator steps.
TRAIN_CKPT_EVERY = 500
TRAIN_SAMPLE_EVERY = 500
TRAIN_LOG_EVERY = 25
#: Images in each sample grid written during training (fixed latents, seeded by the run's seed).
TRAIN_GRID_SAMPLES = 64
#: A run has diverged when a loss is NaN/Inf, or |loss| stays above THRESHOLD for PATIENCE steps.
DIVERGENCE_THRESHOLD = 1e4
DIVERGENCE_PATIENCE = 200
#: Batch size of ``sample_images`` (generator forwards when drawing samples for evaluation).
SAMPLE_BATCH_SIZE = 250
#: Toy 2-D benchmark (Metz et al. 2017; Srivastava et al. 2017): samples scored (2500, as VEEGAN),
#: and the fewest high-quality samples a mode needs to count as covered. 20 (not 1) so that a
#: broad blob, which drops a stray sample within 3 sigma of most modes, does not count as covering them.
TOY_NUM_SAMPLES = 2500
TOY_MODE_MIN_SAMPLES = 20
TOY_STEPS = 2000
TOY_BATCH_SIZE = 256
#: The toy benchmark's nets: mlp "toy" variant, two hidden layers of 128 units, 256-d noise (Metz et al. 2017).
TOY_ARCH = ArchSpec(name="mlp", z_dim=256, width=64, variant="toy")


def from_dict(cls: type, data: Any, where: str = "") -> Any:
    """Build dataclass ``cls`` from ``data`` strictly: unknown keys and wrong types are errors."""
    where = where or cls.__name__
    if not isinstance(data, dict):
        raise BadInput(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise BadInput(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(names))}")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as e:  # missing required field
        raise BadInput(f"{where}: {e}") from None


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise BadInput(f"{where}: expected a list, got {value!r}")
        if args and args[-1] is not Ellipsis and len(args) != len(value):
            raise BadInput(f"{where}: expected {len(args)} values, got {len(value)}")
        item_types = [args[0]] * len(value) if (not args or args[-1] is Ellipsis) else list(args)
        return tuple(_coerce(t, v, where) for t, v in zip(item_types, value))
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads "2e-4" as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp in (int, str, bool) and (type(value) is tp):
        return value
    if tp in (int, float, str, bool):
        raise BadInput(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


def spec_to_yaml(spec: ModelSpec) -> str:
    return yaml.safe_dump(json.loads(json.dumps(spec.to_dict())), sort_keys=False)
