"""Load-time checks of a ModelSpec against the zoo's registries (called by ``config.validate_spec``)."""

from __future__ import annotations

from ..config import ModelSpec
from ..errors import BadInput
from .augment import parse_policy
from .losses import LOSSES
from .model import OPTIMIZERS
from .nets import NETS
from .regularizers import PENALTIES


def check_spec(spec: ModelSpec) -> None:
    """A ``BadInput`` naming the field when a net, variant, norm, loss or augmentation is unknown or clashes."""
    try:
        family = NETS.get(spec.arch.name)
        LOSSES.get(spec.loss)
        parse_policy(spec.tricks.diffaugment)
        for o in (spec.optim_g, spec.optim_d):
            OPTIMIZERS.get(o.name)
    except BadInput as e:
        raise BadInput(f"{spec.name}: {e}") from None
    if spec.arch.variant not in family.variants:
        raise BadInput(f"{spec.name}: arch.variant {spec.arch.variant!r} unknown for {family.name}; "
                       f"known: {', '.join(family.variants)}")
    if spec.arch.d_norm != "default" and spec.arch.d_norm not in family.d_norms:
        raise BadInput(f"{spec.name}: arch.d_norm {spec.arch.d_norm!r} not available for {family.name}; "
                       f"use default or one of {', '.join(family.d_norms)}")
    penalties = [name for name in PENALTIES if getattr(spec.tricks, name)]
    if penalties and family.resolve_d_norm(spec.arch.d_norm) == "batch":
        raise BadInput(f"{spec.name}: {', '.join(penalties)} penalises per-sample gradients of D, which batch norm "
                       "couples across the batch (Gulrajani et al. 2017, sec. 4); set arch.d_norm to layer or none")
