"""Command line: parse arguments, call the API, print. GanbenchError -> one line on stderr, exit 2.

Commands live in one module per area (data, metrics, train, bench), each registering its
subcommands with ``@command``; this module builds the parser and runs one.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import GanbenchError
from ..version import __version__
from . import bench, data, metrics, train  # noqa: F401  (each registers its commands)
from .common import COMMANDS


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
