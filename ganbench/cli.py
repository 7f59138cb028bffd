"""Command line: parse arguments, call the API, print. GanbenchError -> one line on stderr, exit 2.

Each subcommand is a pair: ``add_NAME(subparsers)`` declares it, ``cmd_NAME(args)`` runs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from . import __version__
from .errors import GanbenchError

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


# ------------------------------------------------------------------- datasets (issue 2)
@command
def add_datasets(sub) -> None:
    p = sub.add_parser("datasets", help="list datasets and where each was found; `datasets show NAME` for one")
    p.add_argument("action", nargs="?", choices=["list", "show"], default="list")
    p.add_argument("name", nargs="?", help="dataset name for `show` (see `ganbench datasets`)")
    p.add_argument("--split", default="train")
    p.add_argument("--grid", default=None, help="`show`: write a sample grid PNG here (default: NAME-SPLIT.png)")
    p.add_argument("--grid-size", type=int, default=64, help="`show`: images in the grid")
    p.add_argument("--json", action="store_true")
    add_data_options(p)
    p.set_defaults(func=cmd_datasets)


def cmd_datasets(args) -> int:
    from .data import DATASETS, PARAMETRISED, data_root, get_dataset
    from .grid import save_grid

    if args.action == "list":
        root = data_root(args.data_root)
        rows = []
        for name, src in DATASETS.items():
            where = src.locate(root)
            rows.append({"name": name, "found": where is not None,
                         "where": str(where) if where else "missing: looked in " + ", ".join(src.searched(root)),
                         "description": src.description})
        rows += [{"name": f"{p}:PATH", "found": None, "where": "(any path)", "description": fn.__doc__ or ""}
                 for p, fn in PARAMETRISED.items()]
        if args.json:
            print_json(rows)
        else:
            for r in rows:
                mark = {True: "found  ", False: "MISSING", None: "       "}[r["found"]]
                print(f"{r['name']:<16} {mark} {r['where']}")
        return 0
    if not args.name:
        raise GanbenchError("`ganbench datasets show` needs a dataset name; see `ganbench datasets`")
    ds = get_dataset(args.name, args.split, root=args.data_root, resize=args.resize,
                     value_range=parse_range(args.value_range))
    out = Path(args.grid or f"{args.name.replace(':', '_').replace('/', '_')}-{ds.split}.png")
    n = min(args.grid_size, len(ds))
    save_grid(ds.uint8(slice(0, n)), out)
    info = {**ds.describe(), "grid": str(out)}
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:<11} {v}")
    return 0


# ----------------------------------------------------------- metrics, cache (issue 3)
# ------------------------------------------------------------ train, models (issue 4)
# ------------------------------------------- run, compare, report, results (issue 5)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ganbench",
        description="GAN evaluation and benchmarking: baseline zoo, torch-fidelity-exact metrics, comparative tables.",
    )
    parser.add_argument("--version", action="version", version=f"ganbench {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GanbenchError as e:
        if args.debug:
            raise
        print(f"ganbench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganbench: interrupted; finished results are saved, re-run the command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
