"""Checkpoints carry a checksum of their payload, checked on load; status.json names the checkpoint relative to
its run folder."""

import json
import shutil
import zipfile

import numpy as np
import pytest
import torch

from ganbench.cli import main
from ganbench.errors import BadInput
from ganbench.train.checkpoint import FILE_SHA_KEY, load_checkpoint, load_generator, save_checkpoint
from ganbench.train.trainer import TrainOptions, train
from ganbench.zoo.baselines import load_baseline

QUIET = dict(progress=False, options=TrainOptions(tensorboard=False))


def flip_tensor_bytes(path, n=16):
    """Flip ``n`` bytes in the middle of the checkpoint's largest tensor record (stored uncompressed): the zip
    stays readable and torch.load succeeds, with wrong weights."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = max((i for i in z.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
        record = z.read(info)
    at = data.find(record) + len(record) // 2
    data[at:at + n] = bytes(b ^ 0xFF for b in data[at:at + n])
    path.write_bytes(bytes(data))
    torch.load(path, weights_only=True)  # still loads: only the checksum can tell


def test_flipped_bytes_in_a_checkpoint_are_a_clear_error(tiny_data, tmp_path, tiny):
    spec = tiny(load_baseline("dcgan"))
    train(spec, tiny_data, tmp_path, steps=2, **QUIET)
    ckpt = tmp_path / "checkpoint.pt"
    assert load_checkpoint(ckpt)["payload_sha256"]
    flip_tensor_bytes(ckpt)
    for load in (load_checkpoint, load_generator):
        with pytest.raises(BadInput, match="checkpoint .*checkpoint.pt is corrupt: its contents no longer match"):
            load(ckpt)
    with pytest.raises(BadInput, match="is corrupt"):
        train(spec, tiny_data, tmp_path, steps=4, **QUIET)  # resume refuses to train on


def test_cli_train_resume_of_a_corrupt_checkpoint_is_one_line_exit_2(tmp_path, capsys):
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, (80, 28, 28), dtype=np.uint8))
    args = ["train", "--model", "gan", "--dataset", f"arrays:{data}", "--steps", "2", "--out", str(tmp_path / "run"),
            "--no-progress"]
    assert main(args) == 0
    flip_tensor_bytes(tmp_path / "run" / "checkpoint.pt")
    capsys.readouterr()
    args[args.index("2")] = "3"
    assert main(args + ["--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ganbench: error: checkpoint ") and "is corrupt" in err and "\n" not in err


def test_checkpoints_without_a_checksum_still_load(tiny_data, tmp_path, tiny):
    train(tiny(load_baseline("dcgan")), tiny_data, tmp_path, steps=2, **QUIET)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    state.pop("payload_sha256")
    torch.save(state, tmp_path / "old.pt")  # as written before checksums existed
    assert load_checkpoint(tmp_path / "old.pt")["step"] == 2
    assert len(load_generator(tmp_path / "old.pt").checkpoint_sha256) == 64


def test_file_sha256_is_of_the_bytes_loaded(tiny_data, tmp_path, tiny):
    from ganbench.io import sha256_file

    train(tiny(load_baseline("dcgan")), tiny_data, tmp_path, steps=2, **QUIET)
    state = load_checkpoint(tmp_path)
    assert state[FILE_SHA_KEY] == sha256_file(tmp_path / "checkpoint.pt")
    save_checkpoint(tmp_path / "again.pt", {k: v for k, v in state.items() if k not in ("format", FILE_SHA_KEY)})
    assert load_checkpoint(tmp_path / "again.pt")["step"] == 2


def test_status_names_the_checkpoint_relative_so_a_moved_run_uses_its_own(tiny_data, tmp_path, tiny):
    spec = tiny(load_baseline("dcgan"))
    r = train(spec, tiny_data, tmp_path / "a", steps=2, **QUIET)
    status = json.loads((tmp_path / "a" / "status.json").read_text())
    assert status["checkpoint"] == "checkpoint.pt" and status["out_dir"] == "."
    shutil.move(tmp_path / "a", tmp_path / "b")
    again = train(spec, tiny_data, tmp_path / "b", steps=2, **QUIET)  # finished: the stored result, moved
    assert again.checkpoint == str(tmp_path / "b" / "checkpoint.pt") and again.out_dir == str(tmp_path / "b")
    assert again.wall_time_s == r.wall_time_s
    # a status.json written before paths were relative names the original location: it is not followed
    status.update(out_dir=str(tmp_path / "a"), checkpoint=str(tmp_path / "a" / "checkpoint.pt"))
    (tmp_path / "b" / "status.json").write_text(json.dumps(status))
    assert train(spec, tiny_data, tmp_path / "b", steps=2, **QUIET).checkpoint == str(tmp_path / "b" / "checkpoint.pt")
