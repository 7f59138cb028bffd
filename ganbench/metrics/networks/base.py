"""The feature-network registry: each network registers once, with everything the rest derives from it.

A network declares its name (``--features NAME``), the label tables name its space by (FD_DINOv2), the
feature FD / KID / precision-recall / density-coverage read in its space, every feature it provides and their
dimensions, where its weights come from and how to supply a local file offline, and what it does to images
first. ``load(options)`` builds it on a device and returns a ``Loaded``: a callable from uint8 batches to named
features, its module (inner-layer features hook into it) and its signature (weights SHA-256, preprocessing,
extractor version), which keys the reference cache and goes into provenance. Adding a network is one module in
this package and its test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import torch

from ...errors import BadInput, MissingAsset
from ...registry import Registry


@dataclass(frozen=True)
class NetOptions:
    """What loading a network may need: the device, Inception's resize mode and weights, local weight files."""

    device: torch.device
    resize_mode: str = "tf1"
    files: dict[str, str] = field(default_factory=dict)  # network name -> a local weights file (--weights NAME=PATH)


class Loaded(Protocol):
    module: torch.nn.Module

    def __call__(self, images: torch.Tensor, wanted: set[str]) -> dict[str, torch.Tensor]: ...

    def signature(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class FeatureNetwork:
    name: str
    label: str  # how tables name the space: FD_{label}, KID ({label})
    description: str
    main: str  # the feature the space's FD, KID, precision/recall and density/coverage read
    features: dict[str, int]  # name -> dimension
    weights: str  # where the weights come from, and how to supply them without a download
    preprocessing: str  # what the network does to uint8 images first (resize, normalisation, grayscale)
    load: Callable[[NetOptions], Loaded]
    memory: str = ""  # what one image's features cost, for the help of metrics that keep every feature


NETWORKS: Registry[FeatureNetwork] = Registry("feature network")


@dataclass(frozen=True)
class Feature:
    """A per-image feature: the network computing it, or an inner layer of that network read by a hook."""

    name: str
    network: str
    layer: str | None = None  # a submodule of the network's module read by a hook; None: one of its outputs
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None  # layer output -> (B, D)
    needs_head: bool = False  # Inception's classifier (absent from pool3-only weights)
    description: str = ""


FEATURES: Registry[Feature] = Registry("feature")


def layer_feature(name: str, network: str, layer: str, description: str) -> Callable:
    """Register the decorated ``transform(layer_output) -> (B, D)`` as feature ``name`` read at ``layer``."""
    def deco(transform: Callable[[torch.Tensor], torch.Tensor]) -> Callable:
        FEATURES.add(name, Feature(name, network, layer, transform, description=description))
        return transform
    return deco


def network(name: str, *, label: str, description: str, main: str, features: dict[str, int], weights: str,
            preprocessing: str, needs_head: tuple[str, ...] = ()) -> Callable:
    """Register the decorated ``load(options) -> Loaded`` as feature network ``name``; its features join the
    feature registry under their names (``needs_head``: those a classifier head gives, absent from some weights)."""
    def deco(load: Callable[[NetOptions], Loaded]) -> Callable:
        NETWORKS.add(name, FeatureNetwork(name, label, description, main, dict(features), weights, preprocessing,
                                          load))
        for feat, dim in features.items():
            FEATURES.add(feat, Feature(feat, name, needs_head=feat in needs_head,
                                       description=f"{label} {feat}, {dim}-d"))
        return load
    return deco


def env_name(network_name: str) -> str:
    """``$GANBENCH_WEIGHTS_DINOV2``: where a network's local weights file may be named."""
    return "GANBENCH_WEIGHTS_" + network_name.upper().replace("-", "_")


def local_file(network_name: str, options: NetOptions) -> Path | None:
    """The local weights file given for a network (``--weights NAME=PATH``, else its environment variable)."""
    given = options.files.get(network_name) or os.environ.get(env_name(network_name))
    if not given:
        return None
    path = Path(given).expanduser()
    if path.is_dir():
        raise BadInput(f"{network_name} weights {path} is a folder; give the weights file")
    if not path.is_file():
        raise MissingAsset(f"{network_name} weights {path} does not exist; check --weights {network_name}=PATH "
                           f"or ${env_name(network_name)}")
    return path


def hub_file(url: str, name: str | None = None) -> Path | None:
    """``url``'s file in torch.hub's checkpoint cache, downloaded there once if missing; None when it cannot be."""
    cached = Path(torch.hub.get_dir()) / "checkpoints" / (name or url.rsplit("/", 1)[1])
    if cached.is_file():
        return cached
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(url, str(cached), progress=False)
    except Exception:  # noqa: BLE001 - offline, or any failure to fetch: the caller's one-line message
        return None
    return cached


def parse_weight_files(items) -> dict[str, str]:
    """``--weights dinov2=PATH clip=PATH`` -> {network: path}; an unknown network is a one-line error."""
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, path = str(item).partition("=")
        if not sep or not name.strip() or not path.strip():
            raise BadInput(f"--weights takes NETWORK=PATH such as dinov2=dinov2_vitl14_pretrain.pth, got {item!r}")
        NETWORKS.get(name.strip())
        out[name.strip()] = path.strip()
    return out


def space_feature(protocol) -> str:
    """The feature FD, KID, precision/recall and density/coverage read under ``protocol`` (its ``features``)."""
    return NETWORKS.get(protocol.features).main


def space_label(protocol) -> str:
    """How tables name the space (a network's label: Inception, DINOv2, ...)."""
    return NETWORKS.get(protocol.features).label


def space_name(protocol) -> str:
    """How provenance names the space: ``inception-pool3`` (as before the registry), else the network's name."""
    return "inception-pool3" if protocol.features == "inception" else protocol.features
