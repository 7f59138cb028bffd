"""Model specs from YAML, checked strictly at load time: values, combinations, and the names the zoo's
registries hold (nets, variants, norms, losses, optimisers, augmentations)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml

from ..config import G_LATENTS, LATENT_DISTRIBUTIONS, OUTPUT_RANGES, WEIGHT_CLIP_AT, ModelSpec, from_dict
from ..errors import BadInput
from .augment import parse_policy
from .conditioning import D_CONDITIONING, G_CONDITIONING
from .losses import LOSSES
from .model import OPTIMIZERS
from .nets import NETS
from .regularizers import GRADIENT_PENALTIES
from .schedules import SCHEDULES


def validate_spec(spec: ModelSpec) -> ModelSpec:
    """Reject impossible combinations and unknown net/loss/augment names at load time."""
    t = spec.tricks
    if t.n_critic < 1:
        raise BadInput(f"{spec.name}: tricks.n_critic must be >= 1, got {t.n_critic}")
    if not 0.0 <= t.ema < 1.0:
        raise BadInput(f"{spec.name}: tricks.ema is a decay in [0, 1), got {t.ema}")
    if t.ema_start < 0:
        raise BadInput(f"{spec.name}: tricks.ema_start must be >= 0, got {t.ema_start}")
    if not 0.0 <= t.label_smoothing < 0.5:
        raise BadInput(f"{spec.name}: tricks.label_smoothing must be in [0, 0.5), got {t.label_smoothing}")
    if t.weight_clip and (t.gradient_penalty or t.spectral_norm_d):
        raise BadInput(
            f"{spec.name}: weight clipping cannot be combined with a gradient penalty or spectral norm on D; "
            "pick one way to constrain the critic"
        )
    if t.weight_clip_at not in WEIGHT_CLIP_AT:
        raise BadInput(f"{spec.name}: tricks.weight_clip_at must be one of {', '.join(WEIGHT_CLIP_AT)}, "
                       f"got {t.weight_clip_at!r}")
    if t.label_smoothing and spec.loss in ("wgan", "hinge"):
        raise BadInput(f"{spec.name}: label smoothing needs a probabilistic loss, not {spec.loss!r}")
    for key in ("gradient_penalty", "r1", "dragan", "drift", "weight_clip", "instance_noise", "lecam", "bcr"):
        if not getattr(t, key) >= 0:
            raise BadInput(f"{spec.name}: tricks.{key} must be >= 0, got {getattr(t, key)}")
    if not 0.0 <= t.ada_target < 1.0:
        raise BadInput(f"{spec.name}: tricks.ada_target is a target for E[sign(D(real))] in [0, 1) (0.6 in Karras et "
                       f"al. 2020; 0 disables), got {t.ada_target}")
    if t.ada_target and not t.diffaugment:
        raise BadInput(f"{spec.name}: tricks.ada_target tunes how often the diffaugment ops apply; set "
                       "tricks.diffaugment too (e.g. translation,cutout,color)")
    if spec.batch_size < 1:
        raise BadInput(f"{spec.name}: batch_size must be >= 1")
    if spec.arch.z_dim < 1 or spec.arch.width < 1:
        raise BadInput(f"{spec.name}: arch.z_dim and arch.width must be >= 1")
    if spec.arch.z_dist not in LATENT_DISTRIBUTIONS:
        raise BadInput(f"{spec.name}: arch.z_dist must be one of {', '.join(LATENT_DISTRIBUTIONS)}, "
                       f"got {spec.arch.z_dist!r}")
    if spec.arch.output not in OUTPUT_RANGES:
        raise BadInput(f"{spec.name}: arch.output must be one of {', '.join(OUTPUT_RANGES)}, got {spec.arch.output!r}")
    if t.g_latents not in G_LATENTS:
        raise BadInput(f"{spec.name}: tricks.g_latents must be one of {', '.join(G_LATENTS)}, got {t.g_latents!r}")
    if not t.grad_norm_eps >= 0:
        raise BadInput(f"{spec.name}: tricks.grad_norm_eps must be >= 0, got {t.grad_norm_eps}")
    if t.penalty_output not in ("logit", "sigmoid"):
        raise BadInput(f"{spec.name}: tricks.penalty_output must be logit or sigmoid, got {t.penalty_output!r}")
    for side, o in (("optim_g", spec.optim_g), ("optim_d", spec.optim_d)):
        if not o.lr > 0 or not all(0.0 <= b < 1.0 for b in o.betas):
            raise BadInput(f"{spec.name}: {side} needs lr > 0 and betas in [0, 1), got lr={o.lr}, betas={o.betas}")
    check_registered(spec)
    return spec


#: The zoo's own specs (package data; in a source checkout a link to the repository's ``baselines/``).
BASELINE_DIR = Path(str(files("ganbench") / "baselines"))


def load_spec_file(path: str | Path) -> ModelSpec:
    """Load a model spec from a YAML file, strictly.

    A spec may start from another: ``base: NAME`` (a spec file next to it, else a baseline of the zoo) or
    ``base: path.yaml`` (relative to this file). Its own keys then override the base's: mappings (``arch``,
    ``tricks``, ``optim_g``, ...) key by key, anything else whole; ``name`` is always this file's."""
    path = Path(path)
    data = _spec_data(path, ())
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    return validate_spec(from_dict(ModelSpec, data, path.name))


def _read_yaml(path: Path):
    if path.is_dir():
        raise BadInput(f"model spec {path} is a folder, not a YAML file")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"model spec {path} does not exist") from None
    except UnicodeDecodeError:
        raise BadInput(f"model spec {path} is not a text file (binary data); give a YAML spec") from None
    except OSError as e:
        raise BadInput(f"model spec {path} cannot be read ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        raise BadInput(f"model spec {path} is not valid YAML: {str(e).splitlines()[0]}") from None


def _spec_data(path: Path, chain: tuple[Path, ...]):
    """The file's mapping with its ``base`` chain resolved (``chain``: the files that led here, for cycles)."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or "base" not in data:
        return data
    base = data.pop("base")
    if not isinstance(base, str) or not base.strip():
        raise BadInput(f"model spec {path}: base must name a baseline (e.g. lucic-ns) or a .yaml file, got {base!r}")
    if base.endswith((".yaml", ".yml")):
        base_path = path.parent / base
    else:
        base_path = next((p for p in (path.parent / f"{base}.yaml", BASELINE_DIR / f"{base}.yaml") if p.is_file()),
                         None)
        if base_path is None:
            raise BadInput(f"model spec {path}: base {base!r} is neither a spec next to it nor a baseline; "
                           "see `ganbench models`, or give a .yaml path")
    here = path.resolve()
    if base_path.resolve() in chain + (here,):
        names = " -> ".join(p.name for p in chain + (here, base_path.resolve()))
        raise BadInput(f"model spec {path}: its base chain loops ({names}); break the loop")
    parent = _spec_data(base_path, chain + (here,))
    if not isinstance(parent, dict):
        raise BadInput(f"model spec {path}: base {base_path} does not hold a mapping of spec fields")
    parent.pop("name", None)
    return _override(parent, data)


def _override(base: dict, own: dict) -> dict:
    out = dict(base)
    for key, value in own.items():
        out[key] = _override(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) \
            else value
    return out


def check_registered(spec: ModelSpec) -> None:
    """A ``BadInput`` naming the field when a net, variant, norm, loss or augmentation is unknown or clashes."""
    try:
        family = NETS.get(spec.arch.name)
        LOSSES.get(spec.loss)
        parse_policy(spec.tricks.diffaugment)
        for o in (spec.optim_g, spec.optim_d):
            OPTIMIZERS.get(o.name)
        SCHEDULES.get(spec.schedule)
        G_CONDITIONING.get(spec.arch.g_conditioning)
        D_CONDITIONING.get(spec.arch.d_conditioning)
    except BadInput as e:
        raise BadInput(f"{spec.name}: {e}") from None
    share = spec.schedule_phase_share
    if share and spec.schedule != "progressive":
        raise BadInput(f"{spec.name}: schedule_phase_share applies to the progressive schedule; this spec's is "
                       f"{spec.schedule!r} (remove it, or set schedule: progressive)")
    if not 0 <= share < 0.5:
        raise BadInput(f"{spec.name}: schedule_phase_share must be in [0, 0.5) (a share of the run per phase; 0.05 is "
                       f"the official code's 600 of 12,000 kimg), got {share}")
    if spec.arch.variant not in family.variants:
        raise BadInput(f"{spec.name}: arch.variant {spec.arch.variant!r} unknown for {family.name}; "
                       f"known: {', '.join(family.variants)}")
    if spec.arch.d_norm != "default" and spec.arch.d_norm not in family.d_norms:
        raise BadInput(f"{spec.name}: arch.d_norm {spec.arch.d_norm!r} not available for {family.name}; "
                       f"use default or one of {', '.join(family.d_norms)}")
    if spec.arch.g_conditioning == "cbn" and family.name == "mlp":
        raise BadInput(f"{spec.name}: arch.g_conditioning cbn needs batch norm in G, which the mlp nets have none of; "
                       "use concat")
    if spec.tricks.ac_weight < 0:
        raise BadInput(f"{spec.name}: tricks.ac_weight must be >= 0, got {spec.tricks.ac_weight}")
    if spec.arch.output not in family.outputs:
        raise BadInput(f"{spec.name}: arch.output {spec.arch.output!r} not available for {family.name}; "
                       f"use {' or '.join(family.outputs)}")
    penalties = [name for name in GRADIENT_PENALTIES if getattr(spec.tricks, name)]
    if penalties and family.resolve_d_norm(spec.arch.d_norm) == "batch":
        why = (f"{spec.name}: {', '.join(penalties)} penalises per-sample gradients of D, which batch norm couples "
               "across the batch (Gulrajani et al. 2017, sec. 4)")
        if not spec.tricks.penalty_through_batch_norm:
            raise BadInput(f"{why}; set arch.d_norm to layer or none (or tricks.penalty_through_batch_norm: true, "
                           "as compare_gan's DRAGAN and Lucic et al.'s wide range do)")

