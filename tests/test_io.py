"""ganbench/io.py: temporary files named for their writer, the orphans of killed writers cleaned up (those of live
writers kept), and paths checked for writing without creating anything."""

import os
import subprocess
import sys
import time

import pytest

from ganbench.errors import BadInput
from ganbench.io import ORPHAN_AGE_S, atomic_path, check_writable, clean_orphans


def test_temporary_files_name_their_writer_and_orphans_are_removed(tmp_path):
    with atomic_path(tmp_path / "table.md") as tmp:
        assert f"-{os.getpid()}." in tmp.name and tmp.name.startswith(".table.md.") and tmp.name.endswith(".tmp")
        tmp.write_text("x")
        # while it is being written, a cleanup (a concurrent run) leaves it alone: its writer is alive
        assert clean_orphans(tmp_path) == [] and tmp.exists()
    assert (tmp_path / "table.md").read_text() == "x"
    # a writer killed mid-write (kill -9): a checkpoint's temporary file, deep in a run folder
    code = ("import os, sys; from ganbench.io import atomic_path\n"
            "cm = atomic_path(sys.argv[1]); tmp = cm.__enter__(); tmp.write_bytes(b'half'); os._exit(9)")
    job = tmp_path / "jobs" / "dcgan" / "checkpoint.pt"
    subprocess.run([sys.executable, "-c", code, str(job)], check=False)
    (orphan,) = job.parent.glob(".checkpoint.pt.*.tmp")
    old = tmp_path / ".table.csv.a1b2c3.tmp"  # an older ganbench's name, no writer in it
    old.write_text("old")
    young = tmp_path / ".table.tex.d4e5f6.tmp"
    young.write_text("young")
    os.utime(old, (time.time() - ORPHAN_AGE_S - 60,) * 2)
    assert sorted(clean_orphans(tmp_path)) == sorted([orphan, old])
    assert young.exists() and not orphan.exists() and (tmp_path / "table.md").exists()


@pytest.mark.parametrize("make, folder, message", [
    (lambda p: p / "file.txt" / "sub", True, "is a file, not a folder"),
    (lambda p: p / "dir", False, "is a folder; give a file path"),
    (lambda p: p / "file.txt", True, "is a file; give a folder"),
])
def test_check_writable_refuses_without_creating(tmp_path, make, folder, message):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dir").mkdir()
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(BadInput, match=message):
        check_writable(make(tmp_path), "--out", folder=folder)
    assert sorted(tmp_path.rglob("*")) == before


def test_check_writable_accepts_paths_to_be_made(tmp_path):
    assert check_writable(tmp_path / "a" / "b" / "r.sqlite", "--store") == tmp_path / "a" / "b" / "r.sqlite"
    assert check_writable(tmp_path / "a" / "run", "--out", folder=True) and not (tmp_path / "a").exists()
