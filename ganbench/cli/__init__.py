"""Command line: parse arguments, call the API, print. GanbenchError -> one line on stderr, exit 2.

Commands live in one module per area (data, metrics, train, bench), each registering its
subcommands with ``@command``; this module builds the parser and runs one.
"""

from __future__ import annotations

import argparse
import re
import sys

from ..devices import keep_freed_memory
from ..errors import GanbenchError, one_line_warnings
from ..train.stop import Stopped
from ..version import __version__
from . import bench, data, human, metrics, search, train  # noqa: F401  (each registers its commands)
from .common import COMMANDS


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line like every other error (usage is in ``--help``)."""

    def error(self, message: str):
        self.exit(2, f"ganbench: error: {self.prog}: {message} (see {self.prog} --help)\n")


#: A value that starts with a minus sign, such as the README's ``--range -1,1`` (argparse takes it for an option).
_NEGATIVE = re.compile(r"^-\d[\d.,eE+-]*$|^-(inf|nan)$")


def join_negative_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """``--opt -1,1`` -> ``--opt=-1,1`` for the options that take a value, so a value may start with a minus sign."""
    subs = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})
    command = next((subs[a] for a in argv if a in subs), None)  # the options of this command only
    takes_value = {o for p in (parser, command) if p is not None for a in p._actions
                   if a.option_strings and a.nargs != 0 for o in a.option_strings}
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in takes_value and i + 1 < len(argv) and _NEGATIVE.match(argv[i + 1]):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
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
    args = parser.parse_args(join_negative_values(parser, sys.argv[1:] if argv is None else list(argv)))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    terminated = _terminate_as_interrupt()
    one_line_warnings()
    keep_freed_memory()  # glibc keeps freed tensors' memory for reuse (devices.keep_freed_memory)
    try:
        return int(args.func(args) or 0)
    except GanbenchError as e:
        if args.debug:
            raise
        print(f"ganbench: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:  # Ctrl-C or SIGTERM; Stopped says where training checkpointed
        what = str(e) if isinstance(e, Stopped) else "interrupted"
        print(f"ganbench: {what}; finished results are saved, re-run the command to resume", file=sys.stderr)
        return 143 if terminated else 130


def _terminate_as_interrupt() -> list:
    """SIGTERM (``kill``, a scheduler stopping a job) ends a command as Ctrl-C does: its ``finally`` blocks run, so
    worker processes are stopped, claims released and half-written files removed. A model training in this
    process first checkpoints the step it stands at (``train.stop``); a second signal does not wait for it.
    Returns a list that holds True once SIGTERM arrived. (``human serve`` installs its own handler, which
    replaces this one.)"""
    import signal
    import threading

    from ..train.stop import answer_signal

    seen: list = []
    if threading.current_thread() is not threading.main_thread():
        return seen

    def stop(signum, frame):
        if signum == signal.SIGTERM:
            seen.append(True)
        answer_signal(wait_if_asked=False)  # a second signal stops at once

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return seen


if __name__ == "__main__":
    sys.exit(main())
