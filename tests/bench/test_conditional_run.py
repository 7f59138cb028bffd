"""A run with conditional models: refused on an unlabelled dataset before any work; the grid's conditioning axis."""

import numpy as np
from PIL import Image

from ganbench.bench.ablation import expand_grid, parse_grid
from ganbench.cli import main
from ganbench.zoo.baselines import load_baseline


def test_conditional_model_on_unlabelled_data_is_one_line_and_nothing_written(tmp_path, capsys):
    flat = tmp_path / "flat"
    flat.mkdir()
    for i in range(4):
        Image.fromarray(np.full((28, 28), 40 * i, dtype=np.uint8)).save(flat / f"{i}.png")
    store, out = tmp_path / "r.sqlite", tmp_path / "run"
    code = main(["run", "--models", "cgan,dcgan", "--dataset", f"folder:{flat}", "--store", str(store),
                 "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert err.startswith("ganbench: error: cgan is class-conditional but folder:") and "has no labels" in err
    assert not out.exists() and not store.exists()


def test_conditioning_is_a_grid_axis():
    specs = expand_grid(load_baseline("dcgan"), parse_grid(["conditioning=none,concat,ac,pd"]))
    got = [(s.arch.g_conditioning, s.arch.d_conditioning, g["conditioning"]) for s, g in specs]
    assert got == [("none", "none", "none"), ("concat", "concat", "concat"), ("concat", "ac", "ac"),
                   ("cbn", "projection", "pd")]
