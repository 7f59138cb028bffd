"""The CLI's dataset commands and its error contract (one line, exit 2, --debug shows the traceback)."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ganbench import __version__
from ganbench.cli import main
from ganbench.errors import BadInput


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and __version__ in capsys.readouterr().out


def test_unknown_dataset_one_line_exit_2(capsys):
    assert main(["datasets", "show", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown dataset 'imagenet'" in err and "fashion-mnist" in err
    assert "Traceback" not in err


def test_debug_shows_traceback():
    with pytest.raises(BadInput):
        main(["--debug", "datasets", "show", "imagenet"])


def test_show_writes_grid(tmp_path, capsys):
    np.save(tmp_path / "s.npy", np.full((9, 8, 8, 3), 200, np.uint8))
    out = tmp_path / "grid.png"
    assert main(["datasets", "show", f"arrays:{tmp_path / 's.npy'}", "--grid", str(out), "--grid-size", "4"]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape == (2 * 10 + 2, 2 * 10 + 2, 3)  # 2x2 grid of 8px images with 2px padding
    assert (img[2:10, 2:10] == 200).all()
    assert "size        9" in capsys.readouterr().out


def test_list_reports_missing_with_places(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "cifar10" in out and "MISSING" in out and "looked in" in out


def test_console_script_exit_code():
    r = subprocess.run([sys.executable, "-m", "ganbench.cli", "datasets", "show", "nope"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("ganbench: error: unknown dataset")
