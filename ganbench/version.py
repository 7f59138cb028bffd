"""The package version and the checkout's commit, in a module of their own so that any layer can read them."""

import subprocess
from pathlib import Path

__version__ = "0.1.0"


def git_revision() -> str | None:
    """The commit of the ganbench code this process loaded (``+dirty`` when modified), or None outside a git
    checkout: read once, when this module was imported, so a process that runs on while the checkout moves on (a
    long search, the workers its forkserver forks hours later) names the code it runs, not a newer HEAD."""
    return _REVISION


def _read_revision() -> str | None:
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "ganbench"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("+dirty" if dirty else "")


_REVISION = _read_revision()
