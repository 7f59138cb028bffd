"""`ganbench models`, `ganbench train` and `ganbench toy` end to end on tiny inputs."""

import json

import numpy as np

from ganbench.cli import main


def test_models_lists_every_baseline(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "wgan-gp" in out and "sngan-ema-diffaug" in out
    assert main(["models", "show", "wgan", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tricks"]["weight_clip"] == 0.01
    assert main(["models", "show", "nope"]) == 2


def test_train_resume_and_refuse_overwrite(tmp_path, capsys):
    data = tmp_path / "x.npy"
    np.save(data, np.random.default_rng(0).integers(0, 256, (80, 28, 28), dtype=np.uint8))
    args = ["train", "--model", "gan", "--dataset", f"arrays:{data}", "--steps", "2", "--out", str(tmp_path / "run"),
            "--no-progress"]
    assert main(args) == 0
    assert "ok: gan 2 steps" in capsys.readouterr().out
    assert main(args) == 2  # the folder holds a run and --resume was not given
    assert "pass --resume" in capsys.readouterr().err
    args[args.index("2")] = "3"
    assert main(args + ["--resume", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 3


def test_toy(capsys):
    assert main(["toy", "--model", "gan", "--steps", "20", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["num_modes"] == 8 and 0 <= r["modes"] <= 8 and r["status"] == "ok"
