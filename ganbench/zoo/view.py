"""How a model sees its data, decided once per job (``view_for``) and carried with it.

A view fixes three things that used to be worked out again wherever samples met data: the resolution
the nets work at, how the dataset's own images reach it (``pad`` a 28 px set with a zero border to 32,
``resize``, or ``none``), and the value range of the pixels the nets see: [-1, 1] for a tanh generator,
[0, 1] for a sigmoid one (compare_gan v1's nets, ``arch.output``). Reals become floats in that range for
training (``to_float``); samples become uint8 once, in the sampler, from ``G.value_range``; and
``to_native`` maps uint8 samples back to the dataset's resolution for evaluation (crop 32 -> 28).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..config import CONV_RESOLUTION, DEFAULT_RESOLUTION_MODE, OUTPUT_RANGES, VIEWS, ModelSpec, from_dict
from ..data.base import ImageSet, undo_resolution
from ..errors import BadInput
from ..images import to_float, to_uint8
from .nets import NETS, check_shape


@dataclass(frozen=True)
class View:
    """The nets' resolution, how the dataset's images reach it, and the value range of their pixels."""

    policy: str  # the budget's view policy (config.VIEWS): "pad32" or "native"
    resolution: int  # what the nets see
    native_resolution: int  # the dataset's own
    mode: str = "none"  # "none", "pad" or "resize": how native images reach ``resolution``
    value_range: tuple[float, float] = OUTPUT_RANGES["tanh"]

    def apply(self, dataset: ImageSet) -> ImageSet:
        """``dataset`` as the nets see it (a recorded transform such as ``pad28to32``, or the set itself)."""
        if dataset.resolution != self.native_resolution:
            raise BadInput(f"this view maps {self.native_resolution} px images, {dataset.name} has "
                           f"{dataset.resolution} px; make the view from this dataset (view_for)")
        return dataset if self.mode == "none" else dataset.at_resolution(self.resolution, self.mode)

    def to_native(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images at the nets' resolution -> the dataset's (crop the border a pad added, or resize back)."""
        if self.mode == "none":
            return images
        return undo_resolution(images, self.native_resolution, self.mode)

    def to_float(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 reals -> floats in the nets' value range."""
        return to_float(images, self.value_range)

    def to_uint8(self, images: torch.Tensor, check: bool = True) -> torch.Tensor:
        return to_uint8(images, check=check, value_range=self.value_range)

    def describe(self) -> dict:
        return {**asdict(self), "value_range": list(self.value_range)}

    @classmethod
    def from_dict(cls, d: dict) -> "View":
        """The view a result's provenance recorded (``describe``)."""
        return cls(**{**d, "value_range": tuple(d["value_range"])})


def conv_view(dataset: ImageSet, policy: str = "pad32", value_range: tuple[float, float] = OUTPUT_RANGES["tanh"],
              native_ok: bool = True) -> View:
    """The view of a conv net under ``policy``: 28 px data padded to CONV_RESOLUTION under ``pad32`` (or when the
    family cannot take 28 px, ``native_ok`` False), the dataset's own resolution otherwise."""
    if policy not in VIEWS:
        raise BadInput(f"unknown training view {policy!r}; known: {', '.join(VIEWS)}")
    native = dataset.resolution
    if native == 28 and (policy == "pad32" or not native_ok):
        return View(policy, CONV_RESOLUTION, native, DEFAULT_RESOLUTION_MODE, value_range)
    return View(policy, native, native, "none", value_range)


def view_for(spec: ModelSpec, dataset: ImageSet, policy: str = "pad32") -> View:
    """How ``spec``'s nets see ``dataset`` under a budget's view ``policy``: ``pad32`` pads 28 px data to 32 for conv
    nets; ``native`` trains every net at the dataset's own resolution (Lucic et al. 2018), except families that
    cannot take it (pggan grows by powers of 2), which see 28 px data padded to 32. The value range is the one of
    ``spec.arch.output``. A ``BadInput`` when the nets cannot make images of that shape."""
    family = NETS.get(spec.arch.name)
    value_range = OUTPUT_RANGES[spec.arch.output]
    view = conv_view(dataset, policy, value_range, native_ok=dataset.resolution in family.resolutions)
    if not family.conv:  # fully connected nets take any resolution as it is
        view = View(policy, dataset.resolution, dataset.resolution, "none", value_range)
    check_shape(family, (dataset.channels, view.resolution, view.resolution))
    return view


def stored_view(provenance: dict, dataset: ImageSet) -> View:
    """The view a stored result was made under: the one its provenance records, or, for a row from before views
    were recorded (``view`` then held the policy name), the one its spec and that policy give on ``dataset``."""
    recorded = provenance.get("view")
    if isinstance(recorded, dict):
        return View.from_dict(recorded)
    spec = from_dict(ModelSpec, provenance["spec"], "stored spec")
    return view_for(spec, dataset, recorded or (provenance.get("budget") or {}).get("view", "pad32"))
