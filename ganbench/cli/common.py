"""What every command module shares: the command registry, JSON printing, and argument parsers.

Each subcommand is a pair: ``add_NAME(subparsers)`` declares it (registered with ``@command``),
``cmd_NAME(args)`` runs it.
"""

from __future__ import annotations

import argparse
import json
from typing import Callable

from ..errors import GanbenchError

COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def command(fn: Callable[[argparse._SubParsersAction], None]) -> Callable:
    """Register a subcommand declaration (``add_*``) with the parser."""
    COMMANDS.append(fn)
    return fn


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


def parse_range(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise GanbenchError(f"--range takes LO,HI such as -1,1 or 0,1, got {text!r}") from None
    if not hi > lo:
        raise GanbenchError(f"--range: HI must be greater than LO, got {text!r}")
    return lo, hi


def add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="folder holding datasets (default: $GANBENCH_DATA, the user cache, "
                                       "system folders, then download)")
    p.add_argument("--resize", type=int, help="folder datasets: resize every image to NxN (bicubic)")
    p.add_argument("--range", dest="value_range", help="array files of floats: their value range, e.g. -1,1")
