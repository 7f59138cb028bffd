"""The device choice: a bad --device is refused in one line, and bfloat16 autocast (``tricks.amp``) runs only where the
device computes bfloat16 natively, on the CPU as on CUDA."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from ganbench.devices import native_bfloat16, resolve_device
from ganbench.errors import BadInput
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel


def test_a_bad_device_is_refused_in_one_line():
    for bad in ("gpu", "tpu:0"):
        with pytest.raises(BadInput) as e:
            resolve_device(bad)
        assert "\n" not in str(e.value)
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("avx512_bf16,amx,native", [(False, False, False), (True, False, True), (False, True, True)])
def test_cpu_bfloat16_is_native_with_avx512_bf16_or_amx(monkeypatch, avx512_bf16, amx, native):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    assert native_bfloat16(torch.device("cpu")) is native
    assert native_bfloat16(torch.device("meta")) is False


def _first_losses(amp: bool) -> tuple[bool, list[float]]:
    spec = load_baseline("wgan-gp")
    spec = dataclasses.replace(spec, batch_size=8, arch=dataclasses.replace(spec.arch, width=8),
                               tricks=dataclasses.replace(spec.tricks, amp=amp))
    torch.manual_seed(0)
    model = GANModel(spec, (1, 32, 32), "cpu", seed=0)
    real = torch.randint(0, 256, (8, 1, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    real = real.float() / 127.5 - 1.0
    logs = model.d_step(real, torch.Generator().manual_seed(1))
    return model.amp, [float(logs["d_loss"]), float(logs["d_total"])]


def test_amp_autocasts_on_a_native_cpu_and_is_off_elsewhere(monkeypatch):
    fp32_active, fp32 = _first_losses(amp=False)
    monkeypatch.setattr("ganbench.zoo.model.native_bfloat16", lambda device: True)
    active, bf16 = _first_losses(amp=True)
    assert active and not fp32_active
    assert bf16 != fp32  # the forwards really ran in bfloat16 ...
    assert bf16 == pytest.approx(fp32, rel=0.05, abs=0.05)  # ... within bfloat16's 8 bits of mantissa
    monkeypatch.setattr("ganbench.zoo.model.native_bfloat16", lambda device: False)
    inactive, off = _first_losses(amp=True)
    assert not inactive and off == fp32  # emulated bfloat16 would be slower: amp stays off, the numbers are float32's


def test_cpu_name_tells_hosts_of_one_model_name_apart(tmp_path):
    """Two CPUs sold as "AMD EPYC" differ in family/model (Zen 4 is family 25, Zen 5 family 26), and with them the
    speed of AVX-512 kernels: the name in the provenance carries both numbers, from the first CPU's block."""
    from ganbench.devices import cpu_name
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\n"
                    "model name\t: AMD EPYC\nflags\t\t: fpu avx2\n\nprocessor\t: 1\ncpu family\t: 26\nmodel\t\t: 2\n"
                    "model name\t: Other\n")
    assert cpu_name(str(info)).startswith("AMD EPYC (family 25, model 17")
    assert cpu_name(str(tmp_path / "absent"))  # no /proc/cpuinfo (macOS, Windows): the platform's word for it


def test_a_rank_in_a_process_group_takes_its_own_gpu_or_the_cpu(monkeypatch):
    """Seen on a 1-GPU machine: a gloo group's rank 1 reached for cuda:1 and died with a CUDA error. A gloo group now
    trains on the CPU unless told otherwise; a rank without a GPU of its own is refused in one line."""
    from ganbench import dist
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    gloo1, nccl0, nccl1 = dist.Dist(1, 2, 1, "gloo"), dist.Dist(0, 2, 0, "nccl"), dist.Dist(1, 2, 1, "nccl")
    assert dist.rank_device(None, gloo1) == torch.device("cpu")
    assert dist.rank_device(None, nccl0) == torch.device("cuda", 0)
    assert dist.rank_device("cpu", nccl0) == torch.device("cpu")
    for device, d in ((None, nccl1), ("cuda", gloo1)):
        with pytest.raises(BadInput, match="no GPU of its own") as e:
            dist.rank_device(device, d)
        assert "\n" not in str(e.value)


def test_a_cuda_training_asks_cudnn_for_deterministic_kernels_and_restores_its_flags():
    """Seen on an H200: without it a resumed dcgan differed from a straight run (cuDNN's default kernels sum in any
    order); tests/train/test_trainer.py's resume test is the check on a GPU."""
    from ganbench.train.trainer import _cudnn
    cudnn = torch.backends.cudnn
    saved = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, False
        with _cudnn(torch.device("cuda"), True):
            assert cudnn.deterministic and not cudnn.benchmark
        assert cudnn.benchmark and not cudnn.deterministic
        with _cudnn(torch.device("cuda"), False), _cudnn(torch.device("cpu"), True):
            assert cudnn.benchmark and not cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = saved


MALLOC_PROBE = r"""
import ctypes, json, sys

class MallInfo2(ctypes.Structure):  # glibc's struct mallinfo2 (2.33+)
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
applied, policy = None, None
if sys.argv[1] == "keep":  # else a bare interpreter: glibc's threshold where it starts, 128 KiB
    from ganbench import devices  # imports torch, whose frees may move glibc's own threshold: the policy fixes it
    applied, policy = devices.keep_freed_memory(), devices.malloc_policy()
before = libc.mallinfo2().hblkhd
block = libc.malloc(16 << 20)  # a 64 x 64 x 32 x 32 float32 activation
mmapped = libc.mallinfo2().hblkhd - before
libc.free(block)
print(json.dumps({"applied": applied, "policy": policy, "mmapped": mmapped}))
"""


def _probe(script: str, policy: str, **env) -> str:
    """The last line ``script`` prints, run with ``policy`` in a fresh interpreter without the user's MALLOC_*."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", script, policy], env={**environ, **env}, check=True,
                         capture_output=True, text=True).stdout
    return out.splitlines()[-1]


def _malloc_probe(policy: str, **env) -> dict:
    return json.loads(_probe(MALLOC_PROBE, policy, **env))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_serves_a_16_mib_block_from_the_heap():
    """Fresh processes (the policy is per process): by default glibc maps a 16 MiB block of its own (its mmap
    threshold starts at 128 KiB), which a training step would get back as fresh zero-filled pages every step; with
    ``keep_freed_memory`` the block comes from the heap. Setting glibc's own variables (which fix its threshold)
    leaves the choice to the user."""
    bare = _malloc_probe("bare")
    assert bare["mmapped"] >= 16 << 20
    assert _malloc_probe("keep") == {"applied": True, "policy": "kept", "mmapped": 0}
    assert _malloc_probe("keep", MALLOC_MMAP_THRESHOLD_="131072") == {"applied": False, "policy": "default",
                                                                      "mmapped": bare["mmapped"]}


WEIGHTS_PROBE = r"""
import dataclasses, hashlib, sys, torch
from ganbench import devices
if sys.argv[1] == "keep":
    assert devices.keep_freed_memory()
torch.set_num_threads(1)
from ganbench.train.data import BatchStream
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.model import GANModel
h = hashlib.sha256()
for name in ("pggan", "wgan-gp"):
    spec = load_baseline(name)
    spec = dataclasses.replace(spec, batch_size=8, arch=dataclasses.replace(spec.arch, width=4))
    data = torch.randint(0, 256, (64, 1, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    model = GANModel(spec, (1, 32, 32), "cpu", seed=0)
    batches, gen = BatchStream(data, spec.batch_size, seed=0), torch.Generator().manual_seed(1)
    for _ in range(3):
        model.train_step(batches, gen)
    for p in [*model.G.parameters(), *model.D.parameters()]:
        h.update(p.detach().numpy().tobytes())
print(h.hexdigest())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_keep_freed_memory_changes_no_number():
    """Three training steps of pggan and wgan-gp (a gradient penalty) in two fresh processes, glibc's default policy
    and ``keep_freed_memory``: every weight of G and D equal bit for bit (where memory comes from must not reach a
    kernel's arithmetic)."""
    digests = [_probe(WEIGHTS_PROBE, policy) for policy in ("default", "keep")]
    assert len(digests[0]) == 64 and digests[0] == digests[1]
