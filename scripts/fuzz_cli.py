#!/usr/bin/env python
"""Bad input, tried as a new user would: a table of bad invocations of every command and of the API.

Each case runs in a fresh temporary folder (its working directory, its ganbench cache) and must end
with exit status 2 (the API: ``BadInput``), exactly one line on stderr, no traceback, nothing on
stdout, and nothing left behind: no new file or folder in the working directory (no store, no run
folder, no grid), beside the inputs, or in the cache. A case that starts real work (it runs longer
than ``--limit`` seconds) fails too: bad input must cost nothing.

    python scripts/fuzz_cli.py                 # every case in this process (seconds)
    python scripts/fuzz_cli.py --subprocess    # every CLI case as its own `python -m ganbench.cli` (slower)
    python scripts/fuzz_cli.py -k train -v     # the cases whose name contains "train", with their messages

The test suite runs it (tests/test_fuzz_cli.py), so CI does.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

#: Seconds one case may take before it counts as "started real work".
LIMIT_S = 20.0


@dataclass(frozen=True)
class Case:
    name: str
    #: CLI arguments (``{in}`` is the inputs folder), or a callable ``(inputs: Path) -> None`` for the API.
    call: list[str] | Callable[[Path], None]
    #: A piece of the expected message (case-insensitive).
    expect: str = ""
    #: Environment variables set for this case (``{in}`` is the inputs folder).
    env: tuple[tuple[str, str], ...] = ()


def _arrays(n: int = 20, lo: float = -1.0, hi: float = 1.0, dtype=np.float32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(lo, hi, (n, 1, 28, 28)).astype(dtype)


def make_inputs(folder: Path) -> Path:
    """The files the cases point at: good and bad arrays, specs, CSVs, a plain file to nest paths under."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "u8.npz", images=_arrays(20, 0, 255).astype(np.uint8))
    np.save(folder / "float.npy", _arrays(20))
    np.save(folder / "f255.npy", _arrays(20, 0, 255))
    (folder / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (folder / "dir.yaml").mkdir()
    (folder / "empty").mkdir()
    (folder / "bad.csv").write_bytes(b"\x00\x01garbage;;\n\xff\xfe")
    (folder / "other.csv").write_text("a,b\n1,2\n")
    (folder / "plain.txt").write_text("a file, so plain.txt/x cannot be created\n")
    (folder / "notdb.sqlite").write_text("not a database\n")
    (folder / "list.yaml").write_text("- just\n- a list\n")
    _image_modes(folder / "modes")
    _broken_surroundings(folder)
    np.savez(folder / "xy_images.npz", x=_arrays(20, 0, 255).astype(np.uint8), y=_arrays(20, 0, 255).astype(np.uint8))
    np.savez(folder / "neg_labels.npz", images=_arrays(20, 0, 255).astype(np.uint8), labels=-np.ones(20, dtype=int))
    np.savez(folder / "stats64.npz", mu=np.zeros(64), sigma=np.eye(64))
    (folder / "huge.yaml").write_text("base: dcgan\narch: {width: 100000000}\n")
    (folder / "gen255.py").write_text(
        "import torch\n\n"
        "class G(torch.nn.Module):\n"
        "    z_dim = 8\n"
        "    def forward(self, z):\n"
        "        return (z[:, :1, None, None].expand(-1, 1, 28, 28).tanh() + 1) * 127.5  # 0-255: wrong range\n\n"
        "def make():\n"
        "    return G()\n")
    return folder


#: Image modes whose pixels have no one right 8-bit reading, each refused in one line (16-bit ones are read right).
REFUSED_MODES = {"I": "32-bit integer", "F": "floating-point", "CMYK": "CMYK", "LA": "transparent",
                 "RGBA": "transparent", "P": "transparent"}


def _image_modes(folder: Path) -> None:
    """One folder per image mode PIL can hand back that has no one 8-bit reading: modes/MODE/0.png (or .tif)."""
    from PIL import Image

    g = np.random.default_rng(0)
    gray = g.integers(0, 256, (28, 28)).astype(np.uint8)
    for mode in REFUSED_MODES:
        (folder / mode).mkdir(parents=True, exist_ok=True)
        if mode == "I":
            Image.fromarray(gray.astype(np.int32) * 70000, mode="I").save(folder / mode / "0.tif")
        elif mode == "F":
            Image.fromarray(gray.astype(np.float32) / 255).save(folder / mode / "0.tif")
        elif mode == "CMYK":
            Image.fromarray(np.stack([gray] * 3, -1)).convert("CMYK").save(folder / mode / "0.jpg")
        elif mode == "P":
            im = Image.fromarray(gray).convert("P")
            im.info["transparency"] = 0
            im.save(folder / mode / "0.png", transparency=0)
        else:
            chans = 2 if mode == "LA" else 4
            arr = np.stack([gray] * (chans - 1) + [np.full((28, 28), 128, np.uint8)], -1)
            Image.fromarray(arr, mode=mode).save(folder / mode / "0.png")


def _broken_surroundings(folder: Path) -> None:
    """A store with damaged text, an empty weights file, a folder named like weights, a file where the cache goes."""
    import sqlite3

    (folder / "empty.pth").write_bytes(b"")
    (folder / "weights_dir.pth").mkdir()
    (folder / "cache_is_a_file").write_text("not a folder\n")
    con = sqlite3.connect(folder / "damaged.sqlite")
    con.execute("CREATE TABLE results (job_key TEXT PRIMARY KEY, provenance TEXT)")
    con.execute("INSERT INTO results VALUES ('k', ?)", ("x" * 3000,))
    con.commit()
    con.close()
    data = bytearray((folder / "damaged.sqlite").read_bytes())
    start = data.find(b"x" * 100)
    data[start:start + 64] = b"\xff" * 64  # text that is no longer UTF-8
    (folder / "damaged.sqlite").write_bytes(bytes(data))


def _api_cases() -> list[Case]:
    """Bad calls of the public API (each must raise ``BadInput``)."""
    def images(inputs: Path):
        import torch
        return torch.from_numpy(np.load(inputs / "u8.npz")["images"])

    def evaluate(**kw):
        def call(inputs: Path):
            import ganbench
            x = images(inputs)
            ganbench.evaluate(kw.pop("samples", x), kw.pop("reference", x), progress=False, **kw)
        return call

    def protocol(**kw):
        import dataclasses

        from ganbench.config import EvalProtocol
        return dataclasses.replace(EvalProtocol(), **kw)

    def run(**kw):
        def call(inputs: Path):
            import ganbench
            what = {k: v for k, v in kw.items() if k in ("metrics", "seeds")}
            where = {k: v for k, v in kw.items() if k not in what}
            ganbench.run(models=["dcgan"], **what, options=ganbench.RunOptions(progress=False, **where))
        return call

    def compare(**kw):
        def call(inputs: Path):
            import ganbench
            ganbench.compare("mine", samples=str(inputs / "u8.npz"), **kw,
                             options=ganbench.CompareOptions(progress=False))
        return call

    def float255(inputs: Path):
        import ganbench
        import torch
        ganbench.evaluate(torch.from_numpy(np.load(inputs / "f255.npy")), images(inputs), metrics=("fid",),
                          progress=False)

    def gen255(inputs: Path):
        import ganbench
        import torch

        def G(z):
            return (torch.tanh(z[:, :1, None, None]).expand(-1, 1, 28, 28) + 1) * 127.5
        G.z_dim = 8
        ganbench.evaluate(G, images(inputs), metrics=("fid",), num_samples=8, progress=False)

    def train(**kw):
        def call(inputs: Path):
            from ganbench.data import TensorImageSet
            from ganbench.train.trainer import train as train_model
            from ganbench.zoo.baselines import load_baseline
            train_model(load_baseline("dcgan"), TensorImageSet(images(inputs), "u8", "all", "memory"), "out",
                        **{"steps": 1, "progress": False, **kw})
        return call

    return [
        Case("api evaluate num_samples=2.5", evaluate(num_samples=2.5), "integer"),
        Case("api evaluate num_samples=0", evaluate(num_samples=0), ">= 2"),
        Case("api evaluate device='gpu'", evaluate(device="gpu"), "device"),
        Case("api evaluate device='cuda:99'", evaluate(device="cuda:99"), "cuda"),
        Case("api evaluate metrics='fidd'", evaluate(metrics="fidd"), "unknown metric"),
        Case("api evaluate metrics=('fid','fid')", evaluate(metrics=("fid", "fid")), "twice"),
        Case("api evaluate kid_subsets=0", evaluate(protocol=protocol(kid_subsets=0)), "kid_subsets"),
        Case("api evaluate feature_batch_size=0", evaluate(protocol=protocol(feature_batch_size=0)),
             "feature_batch_size"),
        Case("api evaluate pr with N <= k", evaluate(metrics="pr", num_samples=3), "k"),
        Case("api evaluate float samples in 0-255", float255, "outside"),
        Case("api evaluate generator returning 0-255", gen255, "[-1, 1]"),
        Case("api evaluate a dict", evaluate(samples={"a": 1}), "cannot evaluate"),
        Case("api run metrics='fid,zz'", run(metrics="fid,zz"), "unknown metric"),
        Case("api run jobs=0", run(jobs=0), "--jobs"),
        Case("api run retries=-1", run(retries=-1), "--retries"),
        Case("api run seeds=(-1,)", run(seeds=(-1,)), "seed"),
        Case("api run device='gpu'", run(device="gpu"), "device"),
        Case("api compare metrics='zz'", compare(metrics="zz"), "unknown metric"),
        Case("api compare against a garbage CSV", lambda i: compare(against=str(i / "bad.csv"))(i), "--against"),
        Case("api train steps=0", train(steps=0), "steps"),
        Case("api train kimg=inf", train(steps=None, kimg=float("inf")), "kimg"),
        Case("api train device='gpu'", train(device="gpu"), "device"),
    ]


S = "{in}"  # the inputs folder, in CLI arguments
CLI_CASES = [
    # datasets
    Case("datasets show without a name", ["datasets", "show"], "needs a dataset name"),
    Case("datasets show unknown", ["datasets", "show", "nope"], "unknown dataset"),
    Case("datasets show unknown split", ["datasets", "show", "fashion-mnist", "--split", "nope"], "no split"),
    Case("datasets show missing path", ["datasets", "show", f"{S}/missing"], "does not exist"),
    Case("datasets show missing folder:", ["datasets", "show", f"folder:{S}/missing"], "missing"),
    Case("datasets show --grid-size 0", ["datasets", "show", "fashion-mnist", "--grid-size", "0"], "--grid-size"),
    Case("datasets show --grid-size -4", ["datasets", "show", "fashion-mnist", "--grid-size", "-4"], "--grid-size"),
    Case("datasets show --grid unwritable", ["datasets", "show", "fashion-mnist", "--grid", f"{S}/plain.txt/g.png"],
         "--grid"),
    Case("datasets show --resize -3", ["datasets", "show", f"folder:{S}/empty", "--resize", "-3"], "--resize"),
    Case("datasets show floats without --range", ["datasets", "show", f"arrays:{S}/float.npy"], "--range"),
    Case("datasets show --range backwards", ["datasets", "show", f"arrays:{S}/float.npy", "--range", "1,-1"],
         "--range"),
    Case("datasets show --range -1,1 as in the README, bad size",
         ["datasets", "show", f"arrays:{S}/float.npy", "--range", "-1,1", "--grid-size", "0"], "--grid-size"),
    # models
    Case("models show unknown", ["models", "show", "nope"], "unknown model"),
    Case("models show binary spec", ["models", "show", f"{S}/binary.yaml"], "binary.yaml"),
    Case("models show folder named x.yaml", ["models", "show", f"{S}/dir.yaml"], "folder"),
    Case("models show a YAML list", ["models", "show", f"{S}/list.yaml"], "mapping"),
    Case("models unknown action", ["models", "frobnicate"], "invalid choice"),
    # train
    Case("train --device cuda:99", ["train", "--model", "dcgan", "--steps", "1", "--out", "t", "--device", "cuda:99"],
         "cuda"),
    Case("train --device gpu", ["train", "--model", "dcgan", "--steps", "1", "--out", "t", "--device", "gpu"],
         "device"),
    Case("train --kimg inf", ["train", "--model", "dcgan", "--kimg", "inf", "--out", "t"], "kimg"),
    Case("train --kimg nan", ["train", "--model", "dcgan", "--kimg", "nan", "--out", "t"], "kimg"),
    Case("train --steps 0", ["train", "--model", "dcgan", "--steps", "0", "--out", "t"], "steps"),
    Case("train --steps x", ["train", "--model", "dcgan", "--steps", "x", "--out", "t"], "--steps"),
    Case("train --batch-size 0", ["train", "--model", "dcgan", "--steps", "1", "--out", "t", "--batch-size", "0"],
         "batch"),
    Case("train --ckpt-every 0", ["train", "--model", "dcgan", "--steps", "1", "--out", "t", "--ckpt-every", "0"],
         "ckpt"),
    Case("train unknown model", ["train", "--model", "nope", "--steps", "1", "--out", "t"], "unknown model"),
    Case("train binary spec", ["train", "--model", f"{S}/binary.yaml", "--steps", "1", "--out", "t"], "binary.yaml"),
    Case("train unknown dataset", ["train", "--model", "dcgan", "--dataset", "nope", "--steps", "1", "--out", "t"],
         "unknown dataset"),
    Case("train --out unwritable", ["train", "--model", "dcgan", "--steps", "1", "--out", f"{S}/plain.txt/t"],
         "--out"),
    Case("train --resize -3", ["train", "--model", "dcgan", "--steps", "1", "--out", "t", "--resize", "-3"],
         "--resize"),
    Case("train without --out", ["train", "--model", "dcgan", "--steps", "1"], "--out"),
    # toy
    Case("toy unknown mixture", ["toy", "--model", "gan", "--mixture", "nope"], "mixture"),
    Case("toy --steps 0", ["toy", "--model", "gan", "--steps", "0"], "steps"),
    Case("toy --device gpu", ["toy", "--model", "gan", "--device", "gpu"], "device"),
    # metrics
    Case("metrics --batch-size 0", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--batch-size", "0"], "batch"),
    Case("metrics --kid-subsets 0", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--kid-subsets", "0"], "kid-subsets"),
    Case("metrics --kid-subset-size 1", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--kid-subset-size", "1"],
         "kid-subset-size"),
    Case("metrics --num-samples 0", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--num-samples", "0"], ">= 2"),
    Case("metrics --num-samples 100 of 20", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--num-samples", "100"],
         "holds 20"),
    Case("metrics --ref-samples 0", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--ref-samples", "0"], ">= 2"),
    Case("metrics --device cuda:99", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--device", "cuda:99"], "cuda"),
    Case("metrics --device gpu", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--device", "gpu"], "device"),
    Case("metrics missing file", ["metrics", f"{S}/missing.npy", f"{S}/u8.npz"], "does not exist"),
    Case("metrics unknown dataset", ["metrics", f"{S}/u8.npz", "nope-dataset"], "unknown dataset"),
    Case("metrics unknown split", ["metrics", f"{S}/u8.npz", "fashion-mnist:nope"], "no split"),
    Case("metrics unknown metric", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--metrics", "fid,zz"], "unknown metric"),
    Case("metrics without a reference", ["metrics", f"{S}/u8.npz", "--metrics", "fid"], "reference"),
    Case("metrics pr with N <= k", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--metrics", "pr", "--num-samples", "3"],
         "k"),
    Case("metrics --nproc 0", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--nproc", "0"], "--nproc"),
    Case("metrics floats without --range", ["metrics", f"{S}/float.npy", f"{S}/u8.npz"], "--range"),
    Case("metrics --range -1,1 as in the README, 0-255 floats",
         ["metrics", f"{S}/f255.npy", f"{S}/u8.npz", "--range", "-1,1"], "outside the stated range"),
    Case("metrics --inception-weights missing", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--inception-weights",
                                                 f"{S}/missing.pth"], "missing.pth"),
    Case("metrics --resize-mode bad", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--resize-mode", "nearest"],
         "invalid choice"),
    Case("metrics a folder with no images", ["metrics", f"{S}/empty", f"{S}/u8.npz"], "no image"),
    # run
    Case("run --jobs 0", ["run", "--models", "dcgan", "--jobs", "0"], "--jobs"),
    Case("run --retries -1", ["run", "--models", "dcgan", "--retries", "-1"], "--retries"),
    Case("run unknown dataset", ["run", "--models", "dcgan", "--dataset", "nope"], "unknown dataset"),
    Case("run model given twice", ["run", "--models", "dcgan,dcgan"], "twice"),
    Case("run unknown model", ["run", "--models", "dcgan,stylegan9"], "unknown model"),
    Case("run --device cuda:99", ["run", "--models", "dcgan", "--device", "cuda:99"], "cuda"),
    Case("run --out unwritable", ["run", "--models", "dcgan", "--out", f"{S}/plain.txt/run"], "--out"),
    Case("run --store unwritable", ["run", "--models", "dcgan", "--store", f"{S}/plain.txt/r.sqlite"], "--store"),
    Case("run --store a folder", ["run", "--models", "dcgan", "--store", f"{S}/dir.yaml"], "--store"),
    Case("run --store not a database", ["run", "--models", "dcgan", "--store", f"{S}/notdb.sqlite"], "--store"),
    Case("run binary spec", ["run", "--models", f"{S}/binary.yaml"], "binary.yaml"),
    Case("run --seeds=-1", ["run", "--models", "dcgan", "--seeds=-1"], "--seeds"),
    Case("run unknown budget", ["run", "--models", "dcgan", "--budget", "huge"], "unknown budget"),
    Case("run --protocol with another --budget", ["run", "--protocol", "lucic2018", "--budget", "quick"], "budget"),
    Case("run unknown metric", ["run", "--models", "dcgan", "--metrics", "zz"], "unknown metric"),
    Case("run unknown grid value", ["run", "--grid", "loss=ns,nope"], "unknown loss"),
    Case("run no models", ["run"], "no models"),
    # compare
    Case("compare without samples", ["compare", "--name", "x"], "exactly one"),
    Case("compare --against garbage", ["compare", "--name", "x", "--samples", f"{S}/u8.npz", "--against",
                                       f"{S}/bad.csv"], "--against"),
    Case("compare --against another CSV", ["compare", "--name", "x", "--samples", f"{S}/u8.npz", "--against",
                                           f"{S}/other.csv"], "--against"),
    Case("compare --against missing", ["compare", "--name", "x", "--samples", f"{S}/u8.npz", "--against",
                                       f"{S}/missing.csv"], "--against"),
    Case("compare missing samples", ["compare", "--name", "x", "--samples", f"{S}/missing.npy"], "no such file"),
    Case("compare unknown module", ["compare", "--name", "x", "--generator", "no_such_pkg_xyz:make"], "cannot import"),
    Case("compare generator in 0-255", ["compare", "--name", "x", "--generator", f"{S}/gen255.py:make"], "[-1, 1]"),
    Case("compare --device cuda:99", ["compare", "--name", "x", "--samples", f"{S}/u8.npz", "--device", "cuda:99"],
         "cuda"),
    Case("compare --store unwritable", ["compare", "--name", "x", "--samples", f"{S}/u8.npz", "--store",
                                        f"{S}/plain.txt/r.sqlite"], "--store"),
    Case("compare too few samples", ["compare", "--name", "x", "--samples", f"{S}/u8.npz"], "holds 20"),
    # report, results, cache
    Case("report not a run folder", ["report", f"{S}/empty"], "not a ganbench run folder"),
    Case("results without a store", ["results", "--store", f"{S}/missing.sqlite"], "no results store"),
    Case("results not a database", ["results", "--store", f"{S}/notdb.sqlite"], "not a ganbench results"),
    Case("cache unknown action", ["cache", "frobnicate"], "invalid choice"),
    # human
    Case("human serve not a run folder", ["human", "serve", f"{S}/empty"], "not a ganbench run folder"),
    Case("human serve missing folder", ["human", "serve", f"{S}/missing"], "not a ganbench run folder"),
    Case("human serve odd --images", ["human", "serve", f"{S}/empty", "--images", "7"], "even"),
    Case("human serve --images -2", ["human", "serve", f"{S}/empty", "--images", "-2"], "--images"),
    Case("human serve --pool smaller than half of --images", ["human", "serve", f"{S}/empty", "--pool", "3"],
         "--pool"),
    Case("human serve --port 70000", ["human", "serve", f"{S}/empty", "--port", "70000"], "port"),
    Case("human serve --device cuda:99", ["human", "serve", f"{S}/empty", "--device", "cuda:99"], "cuda"),
    Case("human serve odd --qualification", ["human", "serve", f"{S}/empty", "--qualification", "99"], "even"),
    Case("human serve odd --tutorial", ["human", "serve", f"{S}/empty", "--tutorial", "3"], "even"),
    Case("human serve --qualification-pool smaller than half of --qualification",
         ["human", "serve", f"{S}/empty", "--qualification-pool", "10"], "--qualification-pool"),
    Case("human serve --qualification-pool -1", ["human", "serve", f"{S}/empty", "--qualification-pool", "-1"],
         "--qualification-pool"),
    Case("human serve unknown --reals", ["human", "serve", f"{S}/empty", "--reals", "test"], "invalid choice"),
    Case("human serve --seed -1", ["human", "serve", f"{S}/empty", "--seed", "-1"], "--seed"),
    Case("human score not a run folder", ["human", "score", f"{S}/empty"], "not a ganbench run folder"),
    Case("human score unknown --bootstrap", ["human", "score", f"{S}/empty", "--bootstrap", "images"],
         "invalid choice"),
    Case("human export --per-image without a run", ["human", "export", "--per-image"], "needs the RUN_DIR"),
    Case("human score --replicates 0", ["human", "score", f"{S}/empty", "--replicates", "0"], "--replicates"),
    Case("human export without a store", ["human", "export", "--store", f"{S}/missing.sqlite"], "no results store"),
    Case("human export --out unwritable", ["human", "export", "--out", f"{S}/plain.txt/a.csv"], "--out"),
    Case("human unknown action", ["human", "frobnicate"], "invalid choice"),
    Case("human serve unknown --variant", ["human", "serve", f"{S}/empty", "--variant", "timed"], "invalid choice"),
    Case("human serve --start-ms below the staircase", ["human", "serve", f"{S}/empty", "--variant", "time",
                                                        "--start-ms", "50"], "--start-ms"),
    Case("human serve --start-ms nan", ["human", "serve", f"{S}/empty", "--variant", "time", "--start-ms", "nan"],
         "--start-ms"),
    Case("human serve --step-ms 0", ["human", "serve", f"{S}/empty", "--variant", "time", "--step-ms", "0"],
         "--step-ms"),
    Case("human serve --step-ms beyond the range", ["human", "serve", f"{S}/empty", "--variant", "time",
                                                    "--step-ms", "5000"], "--step-ms"),
    Case("human serve --mask-ms inf", ["human", "serve", f"{S}/empty", "--variant", "time", "--mask-ms", "inf"],
         "--mask-ms"),
    Case("human serve --fixation-ms -1", ["human", "serve", f"{S}/empty", "--variant", "time", "--fixation-ms",
                                          "-1"], "--fixation-ms"),
    Case("unknown command", ["frobnicate"], "invalid choice"),
    # search
    Case("search without a protocol or a space", ["search", "--models", "dcgan"], "--space"),
    Case("search --trials 0", ["search", "--protocol", "lucic2018", "--trials", "0"], "trials"),
    Case("search unknown space", ["search", "--models", "dcgan", "--space", f"{S}/missing.yaml"], "does not exist"),
    Case("search space that is a list", ["search", "--models", "dcgan", "--space", f"{S}/list.yaml"], "mapping"),
    Case("search --rerun-seeds 1,1", ["search", "--protocol", "lucic2018", "--rerun-seeds", "1,1"], "seeds"),
    # image modes: every mode PIL hands back without one right 8-bit reading is refused, before any work
    *[Case(f"image mode {mode}", ["metrics", f"folder:{S}/modes/{mode}", f"{S}/u8.npz", "--metrics", "fid"], why)
      for mode, why in REFUSED_MODES.items()],
    # work multipliers: an argument that would multiply work beyond reason is refused, with the limit
    Case("run --seeds 0-100000000", ["run", "--models", "gan", "--seeds", "0-100000000"], "at most 1000"),
    Case("run --seeds 0-999,1000-1999", ["run", "--models", "gan", "--seeds", "0-999,1000-1999"], "at most 1000"),
    Case("run --grid with 100,000 cells", ["run", "--grid", *(f"tricks.{k}=" + ",".join(str(i) for i in range(10))
                                                           for k in ("r1", "ema", "dragan", "drift", "ac_weight"))],
         "at most"),
    Case("search --trials 10^8", ["search", "--protocol", "lucic2018", "--trials", "100000000"], "at most"),
    Case("metrics --kid-subsets 10^9", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--kid-subsets", "1000000000"],
         "at most"),
    Case("human score --replicates 10^9", ["human", "score", f"{S}/empty", "--replicates", "1000000000"], "at most"),
    # broken surroundings: one line before any work, never a traceback
    Case("results with a damaged store", ["results", "--store", f"{S}/damaged.sqlite"], "damaged"),
    Case("run with a damaged store", ["run", "--models", "gan", "--store", f"{S}/damaged.sqlite"], "damaged"),
    Case("run --store in /proc", ["run", "--models", "gan", "--store", "/proc/ganbench-x.sqlite"], "cannot be created"),
    Case("train --out in /proc", ["train", "--model", "gan", "--steps", "1", "--out", "/proc/ganbench-x"],
         "cannot be created"),
    Case("metrics with GANBENCH_CACHE a file", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--metrics", "fid"],
         "GANBENCH_CACHE", env=(("GANBENCH_CACHE", f"{S}/cache_is_a_file"),)),
    Case("metrics --inception-weights empty", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--inception-weights",
                                               f"{S}/empty.pth"], "empty"),
    Case("metrics --inception-weights a folder", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--inception-weights",
                                                  f"{S}/weights_dir.pth"], "folder"),
    Case("train a net too large to allocate", ["train", "--model", f"{S}/huge.yaml", "--steps", "1", "--out", "t"],
         "reduce arch.width"),
    Case("run a net too large to allocate", ["run", "--models", f"{S}/huge.yaml"], "reduce arch.width"),
    # messages that used to mislead or come late
    Case("metrics labels of -1", ["metrics", f"arrays:{S}/neg_labels.npz", f"{S}/u8.npz", "--metrics", "fid"],
         "found -1"),
    Case("metrics .npz whose y holds images", ["metrics", f"arrays:{S}/xy_images.npz", f"{S}/u8.npz"], "'y'"),
    Case("metrics 64-d statistics as the reference", ["metrics", f"{S}/u8.npz", f"{S}/stats64.npz", "--metrics",
                                                      "fid"], "64-d"),
    Case("metrics --features unknown", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--features", "nope"],
         "invalid choice"),
    Case("metrics --weights without =", ["metrics", f"{S}/u8.npz", f"{S}/u8.npz", "--weights", "dinov2"],
         "NETWORK=PATH"),
]
CASES: list[Case] = CLI_CASES + _api_cases()


# ------------------------------------------------------------------------------ running
def snapshot(root: Path, cache: Path) -> set[tuple[str, bool, int, int]]:
    """Every path under ``root`` with its kind, size and mtime; in ``cache``, files only (the cache makes its
    folders as it looks for datasets)."""
    out = set()
    for p in root.rglob("*"):
        if p.is_dir() and (p == cache or cache in p.parents):
            continue
        st = p.lstat()
        out.add((str(p), p.is_dir(), 0 if p.is_dir() else st.st_size, 0 if p.is_dir() else st.st_mtime_ns))
    return out


class _Timeout(BaseException):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Raise ``_Timeout`` in this (main) thread after ``seconds``, unless a timer is already set (pytest-timeout's)."""
    if signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _argv(case: Case, inputs: Path) -> list[str]:
    return [a.replace(S, str(inputs)) for a in case.call]


def run_in_process(case: Case, inputs: Path, limit: float) -> tuple[int | str, str, str]:
    """``(exit status or exception name, stdout, stderr)`` of one case, run in this process."""
    from ganbench.cli import main
    from ganbench.errors import BadInput

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _time_limit(limit):
        try:
            if callable(case.call):
                try:
                    case.call(inputs)
                    status: int | str = "no error"
                except BadInput as e:
                    status, _ = 2, print(f"ganbench: error: {e}", file=sys.stderr)
            else:
                status = main(_argv(case, inputs))
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
        except _Timeout:
            status = f"still running after {limit:g} s"
        except BaseException as e:  # noqa: BLE001 - reported as the case's failure
            import traceback
            traceback.print_exc(file=err)
            status = type(e).__name__
    return status, out.getvalue(), err.getvalue()


def run_subprocess(case: Case, inputs: Path, limit: float, env: dict) -> tuple[int | str, str, str]:
    cmd = [sys.executable, "-m", "ganbench.cli", *_argv(case, inputs)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=env, cwd=os.getcwd())
    except subprocess.TimeoutExpired:
        return f"still running after {limit:g} s", "", ""
    return p.returncode, p.stdout, p.stderr


def check(case: Case, status, out: str, err: str, before: set, after: set) -> list[str]:
    """What is wrong with one case's outcome (empty: it passed)."""
    problems = []
    lines = [line for line in err.splitlines() if line.strip()]
    if status != 2:
        problems.append(f"exit {status}, expected 2")
    if "Traceback" in err:
        problems.append("a traceback")
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr, expected 1")
    elif not lines[0].startswith("ganbench: error: "):
        problems.append("stderr does not start with 'ganbench: error: '")
    if out.strip():
        problems.append(f"stdout not empty: {out.strip()[:80]!r}")
    if case.expect and case.expect.lower() not in err.lower():
        problems.append(f"message lacks {case.expect!r}")
    left = sorted(p[0] for p in after - before)
    if left:
        problems.append(f"left behind: {', '.join(left[:4])}")
    return problems


def run_cases(cases: list[Case] = CASES, subprocess_mode: bool = False, limit: float = LIMIT_S,
              verbose: bool = False, stream=sys.stdout) -> list[tuple[Case, list[str]]]:
    """Run ``cases`` in a temporary folder; returns ``[(case, problems)]`` for the failed ones."""
    failed = []
    with tempfile.TemporaryDirectory(prefix="ganbench-fuzz-") as tmp:
        root = Path(tmp)
        inputs = make_inputs(root / "inputs")
        work, cache = root / "work", root / "cache"
        work.mkdir()
        cache.mkdir()
        env = {**os.environ, "GANBENCH_CACHE": str(cache), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        env.pop("GANBENCH_INCEPTION_WEIGHTS", None)
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        os.environ.update({"GANBENCH_CACHE": str(cache)})
        os.environ.pop("GANBENCH_INCEPTION_WEIGHTS", None)
        os.chdir(work)
        try:
            for case in cases:
                before = snapshot(root, cache)
                t0 = time.perf_counter()
                extra = {k: v.replace(S, str(inputs)) for k, v in case.env}
                os.environ.update(extra)
                try:
                    if subprocess_mode and not callable(case.call):
                        status, out, err = run_subprocess(case, inputs, limit, {**env, **extra})
                    else:
                        status, out, err = run_in_process(case, inputs, limit)
                finally:
                    os.environ.update({"GANBENCH_CACHE": str(cache)})
                took = time.perf_counter() - t0
                problems = check(case, status, out, err, before, snapshot(root, cache))
                if problems:
                    failed.append((case, problems))
                if verbose or problems:
                    mark = "FAIL" if problems else "ok  "
                    first = next((line for line in err.splitlines() if line.strip()), "")
                    print(f"{mark} {case.name} ({took:.2f} s): {'; '.join(problems) or first}", file=stream)
                    if problems and verbose:
                        print("     " + err.strip().replace("\n", "\n     ")[-2000:], file=stream)
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
    return failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subprocess", action="store_true", help="run each CLI case as its own process")
    ap.add_argument("-k", default="", help="only the cases whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case and its message")
    ap.add_argument("--limit", type=float, default=LIMIT_S, help=f"seconds a case may take (default {LIMIT_S:g})")
    args = ap.parse_args(argv)
    cases = [c for c in CASES if args.k in c.name]
    t0 = time.perf_counter()
    failed = run_cases(cases, args.subprocess, args.limit, args.verbose)
    print(f"{len(cases) - len(failed)} of {len(cases)} bad invocations rejected cleanly "
          f"({len(cases) - sum(callable(c.call) for c in cases)} CLI, {sum(callable(c.call) for c in cases)} API) "
          f"in {time.perf_counter() - t0:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
