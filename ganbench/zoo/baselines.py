"""The baseline zoo: one YAML ModelSpec per baseline, shipped with the package (``ganbench/baselines``, package
data found through ``importlib.resources``; in a source checkout it is a link to the repository's ``baselines/``)."""

from __future__ import annotations

from pathlib import Path

from ..config import ModelSpec
from .specs import BASELINE_DIR, load_spec_file
from ..errors import BadInput

__all__ = ["BASELINE_DIR", "baseline_paths", "list_baselines", "load_baseline"]


def baseline_paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BASELINE_DIR.glob("*.yaml"))}


def list_baselines() -> dict[str, ModelSpec]:
    """Every baseline, loaded strictly: ``{name: ModelSpec}``."""
    return {name: load_spec_file(path) for name, path in baseline_paths().items()}


def load_baseline(name_or_path: str | Path) -> ModelSpec:
    """A baseline by name (``"dcgan"``) or a spec file by path (``"my/gan.yaml"``)."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        return load_spec_file(text)
    paths = baseline_paths()
    if text not in paths:
        raise BadInput(f"unknown model {text!r}; baselines: {', '.join(paths)} (or pass a path to a .yaml spec)")
    return load_spec_file(paths[text])
