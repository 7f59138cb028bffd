"""``evaluate`` split over ``nproc`` local processes: each extracts its shard of both inputs, features are gathered.

A torch.distributed group is made for the occasion (gloo on the CPU, NCCL with one GPU per process
when GPUs are there); ``metrics.pipeline`` does the sharding. On a CPU the processes share the
cores (torch threads = cores // nproc); the gain is on machines with several GPUs.
"""

from __future__ import annotations

import json
import tempfile
import traceback

import torch
import torch.distributed as tdist
import torch.multiprocessing as mp

from ..config import DEFAULT_PROTOCOL, check_protocol
from ..devices import resolve_device, threads_each
from ..errors import BadInput, GanbenchError


def _worker(rank: int, nproc: int, folder: str, args: tuple, kwargs: dict) -> None:
    cuda = torch.cuda.is_available() and str(kwargs.get("device") or "cuda").startswith("cuda")
    if cuda:
        torch.cuda.set_device(rank)
        kwargs = {**kwargs, "device": f"cuda:{rank}"}
    else:
        torch.set_num_threads(threads_each(nproc))
    tdist.init_process_group("nccl" if cuda else "gloo", init_method=f"file://{folder}/store", rank=rank,
                             world_size=nproc)
    try:
        from .evaluate import evaluate

        result = {"ok": evaluate(*args, **{**kwargs, "progress": kwargs.get("progress", True) and rank == 0})}
    except GanbenchError as e:
        result = {"error": str(e)}
    except Exception as e:  # noqa: BLE001 - a bug: carry its traceback to the parent
        result = {"bug": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    finally:
        tdist.destroy_process_group()
    if rank == 0:
        with open(f"{folder}/result.json", "w") as f:
            json.dump(result, f, default=str)


def evaluate_on_processes(nproc: int, *args, **kwargs) -> dict:
    """``metrics.evaluate.evaluate(*args, **kwargs)`` on ``nproc`` processes; the same result as one process
    (up to float32 rounding of features computed in other batch groupings)."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise BadInput(f"--nproc must be an integer >= 1, got {nproc!r}")
    if nproc == 1:
        from .evaluate import evaluate
        return evaluate(*args, **kwargs)
    check_protocol(kwargs.get("protocol") or DEFAULT_PROTOCOL)  # settings and device checked before any process
    resolve_device(kwargs.get("device"))
    if torch.cuda.is_available() and torch.cuda.device_count() < nproc and \
            str(kwargs.get("device") or "cuda").startswith("cuda"):
        raise BadInput(f"--nproc {nproc}: only {torch.cuda.device_count()} GPU(s); give at most that many, "
                       "or --device cpu")
    with tempfile.TemporaryDirectory(prefix="ganbench-eval-") as folder:
        mp.spawn(_worker, args=(nproc, folder, args, kwargs), nprocs=nproc, join=True)
        with open(f"{folder}/result.json") as f:
            result = json.load(f)
    if "error" in result:
        raise GanbenchError(result["error"])
    if "bug" in result:
        raise RuntimeError(f"{result['bug']}\n{result['traceback']}")
    return result["ok"]
