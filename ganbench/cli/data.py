"""`ganbench datasets`: list datasets and where each was found, or show one as a grid."""

from __future__ import annotations

from pathlib import Path

from ..errors import GanbenchError
from ..io import check_writable
from .common import add_data_options, command, parse_range, print_json


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
    from ..data import DATASETS, PARAMETRISED, data_root, get_dataset
    from ..images import save_grid

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
    if args.grid_size < 1:
        raise GanbenchError(f"--grid-size takes a number of images >= 1, got {args.grid_size}")
    if args.grid:
        check_writable(args.grid, "--grid")
    ds = get_dataset(args.name, args.split, root=args.data_root, resize=args.resize,
                     value_range=parse_range(args.value_range))
    out = Path(args.grid or f"{args.name.replace(':', '_').replace('/', '_')}-{ds.split}.png")
    check_writable(out, "--grid")
    n = min(args.grid_size, len(ds))
    save_grid(ds.uint8(slice(0, n)), out)
    info = {**ds.describe(), "grid": str(out)}
    if args.json:
        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k:<11} {v}")
    return 0
