"""The one place a device is chosen: CUDA when present, else the CPU; ``device=`` overrides it everywhere."""

from __future__ import annotations

import os

import torch

from .errors import BadInput


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` checked (``cuda``, ``cuda:1``, ``cpu``; a bad name or a missing GPU is a ``BadInput``), or
    CUDA when present, else the CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise BadInput(f"--device {device!r} is not a device; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise BadInput(f"--device {device}: this machine has no CUDA GPU (or torch was built without CUDA); "
                           "use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise BadInput(f"--device {device}: there are only {torch.cuda.device_count()} CUDA device(s)")
    elif dev.type not in ("cpu", "mps"):
        raise BadInput(f"--device {device}: ganbench runs on cpu or cuda")
    return dev


def threads_each(processes: int) -> int:
    """torch threads per process when ``processes`` run at once on this machine's CPU: its cores shared out, at
    least one each."""
    return max(1, (os.cpu_count() or 1) // processes)


def native_bfloat16(device: torch.device) -> bool:
    """Whether bfloat16 autocast computes natively on ``device``: a CUDA GPU that supports it, or a CPU with
    AVX512-BF16 or AMX instructions. Elsewhere bfloat16 is emulated and slower than float32, so ``tricks.amp`` is off
    there (the trainer records ``amp_active``)."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")  # private in torch 2.x; absent: neither
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return False


def cpu_name(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU in words, precise enough to tell two hosts of one cloud name apart: its model name, family and model
    numbers (/proc/cpuinfo on Linux), and the widest vector instructions torch's kernels use here, e.g. "AMD EPYC
    (family 25, model 17; torch AVX512)". Speeds measured on different CPUs are not comparable."""
    import platform
    from pathlib import Path

    name, family, model = platform.processor() or platform.machine(), "", ""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name" and value:
                name = value
            elif key == "cpu family":
                family = value
            elif key == "model":
                model = value
            elif not line.strip() and name and family:
                break  # the first CPU's block is enough
    except OSError:
        pass
    try:
        simd = torch.backends.cpu.get_cpu_capability()
    except (AttributeError, RuntimeError):
        simd = ""
    details = "; ".join(x for x in ((f"family {family}, model {model}" if family else ""),
                                    (f"torch {simd}" if simd else "")) if x)
    return f"{name} ({details})" if details else name


# glibc's mallopt parameters (malloc.h); the mmap threshold is 8x the cap of glibc's own dynamic threshold on a
# 64-bit system (DEFAULT_MMAP_THRESHOLD_MAX, 32 MiB): Inception's first activations (43 MiB for 16 images at
# 299x299) and pggan's at the paper's width are larger than that cap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 256 << 20
TRIM_THRESHOLD = 1 << 30
_malloc_kept = False  # whether keep_freed_memory applied in this process (provenance: malloc_policy)


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed blocks of up to 256 MiB for reuse instead of handing them back to the kernel.

    By default glibc serves a block above its mmap threshold (128 KiB, raised as such blocks are freed, up to 32 MiB)
    with a fresh mmap and unmaps it when freed, and gives the heap's free top back once it passes 128 KiB; a CPU
    training step allocates and frees its activations and gradients every step, so each comes back as new pages that
    the kernel zero-fills on first touch. Fixing the threshold at 256 MiB and the trim threshold at 1 GiB keeps them
    in the heap (an allocator such as jemalloc does the same by design). Only the allocator's policy changes: not a
    value computed. Returns whether it applied (glibc only; elsewhere nothing is done); setting
    ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` in the environment leaves glibc as the user chose.
    Called where work starts: the CLI, and ``train`` and ``evaluate`` (which the executors' workers and API users
    call); a second call is free."""
    global _malloc_kept
    if _malloc_kept:
        return True
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without mallopt, Windows)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # the mmap threshold first: setting the trim threshold alone would also freeze the mmap threshold at 128 KiB
    _malloc_kept = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _malloc_kept


def malloc_policy() -> str:
    """This process's allocator policy, for provenance: ``kept`` (``keep_freed_memory`` applied) or ``default``."""
    return "kept" if _malloc_kept else "default"
