"""Small file helpers shared by every stage: atomic writes, orphaned temporary files, paths checked for writing,
and the user cache folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Iterator

import platformdirs

from .errors import BadInput


_UMASK = os.umask(0)
os.umask(_UMASK)
TMP_SUFFIX = ".tmp"
#: A temporary file whose writer cannot be named (another machine, an older ganbench) is orphaned once it
#: has not changed for this long; one whose writer is a dead process on this machine is orphaned at once.
ORPHAN_AGE_S = 3600.0
#: ``.NAME.HOST-PID.RANDOM.tmp``: the temporary files ``atomic_path`` makes, named for their writer.
_TMP_NAME = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[^.]+\.tmp$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"


def _writer() -> str:
    return f"{_host()}-{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    return True


def orphaned(path: Path, now: float | None = None) -> bool:
    """True for a temporary file of ``atomic_path`` that no live writer will finish: its writer is a dead
    process on this machine, or it has not changed for ``ORPHAN_AGE_S`` (a writer we cannot name)."""
    m = _TMP_NAME.match(path.name)
    if m and m["host"] == _host():
        return not _alive(int(m["pid"]))
    try:
        return (now or time.time()) - path.stat().st_mtime > ORPHAN_AGE_S
    except OSError:
        return False


def clean_orphans(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed writer left under ``folder`` (kill -9 mid-write: a checkpoint's or a
    table's ``.NAME.*.tmp``); those of live writers stay. Returns the removed paths."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for p in folder.rglob(f".*{TMP_SUFFIX}"):
        if p.is_file() and not p.is_symlink() and orphaned(p):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


def check_writable(path: str | os.PathLike, what: str, folder: bool = False) -> Path:
    """``path`` checked for writing without creating anything: a file (or, with ``folder``, a folder) that
    exists and is writable, or one that can be made (its nearest existing ancestor is a writable folder).
    ``what`` names the option in the error (``--store``)."""
    p = Path(path).expanduser()
    if p.exists():
        if folder != p.is_dir():
            raise BadInput(f"{what} {p} is a {'folder' if p.is_dir() else 'file'}; give "
                           f"{'a folder' if folder else 'a file path'}")
        if not os.access(p, os.W_OK):
            raise BadInput(f"{what} {p} is not writable")
        return p
    parent = p.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise BadInput(f"{what} {p} cannot be created: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BadInput(f"{what} {p} cannot be created: {parent} is not writable")
    before = parent.stat()
    try:  # permission bits do not tell about /proc, /sys or a read-only mount: a folder made and removed does
        probe = tempfile.mkdtemp(prefix=".ganbench-probe-", dir=parent)
    except OSError as e:
        raise BadInput(f"{what} {p} cannot be created in {parent} ({e.strerror or e}); choose another place") from None
    os.rmdir(probe)
    os.utime(parent, ns=(before.st_atime_ns, before.st_mtime_ns))  # and leaves no trace, its times included
    return p


def cache_dir(*parts: str) -> Path:
    """The user cache folder for ganbench (``$GANBENCH_CACHE`` overrides it), created on demand; a location that
    is a file or cannot be written is a one-line ``BadInput`` naming the variable."""
    env = os.environ.get("GANBENCH_CACHE")
    root = Path(env or platformdirs.user_cache_dir("ganbench"))
    path = root.joinpath(*parts)
    what = f"GANBENCH_CACHE={env}" if env else f"the cache folder {root}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise BadInput(f"{what}: a file is in the way of {path}; point GANBENCH_CACHE at a folder") from None
    except OSError as e:
        raise BadInput(f"{what}: cannot create {path} ({e.strerror or e}); point GANBENCH_CACHE at a writable "
                       "folder") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise BadInput(f"{what}: {path} is not writable; point GANBENCH_CACHE at a writable folder")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    A killed process leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{_writer()}.", suffix=TMP_SUFFIX)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_log_csv(path: str | os.PathLike, head: list[str], rows: list[dict]) -> None:
    """A small log (a run's curve, a trial's rungs) as CSV, written atomically; a field a row lacks is left blank
    (a value recorded only since some version), which its reader takes as absent."""
    lines = [",".join(head), *(",".join(str(r.get(h, "")) for h in head) for r in rows)]
    write_text_atomic(path, "\n".join(lines) + "\n")


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
