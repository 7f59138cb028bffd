"""Inputs as sources: a folder of mixed sizes is refused with advice that `metrics` can follow (its --resize), and
resized when asked; a missing path is named as missing, never as an unknown dataset."""

import numpy as np
import pytest
from PIL import Image

from ganbench.cli import build_parser
from ganbench.config import EvalProtocol
from ganbench.errors import BadInput
from ganbench.metrics.sources import as_source


def test_mixed_sizes_point_at_resize_and_resize_works(tmp_path):
    for i, size in enumerate((8, 8, 8, 12)):
        Image.fromarray(np.full((size, size), 40 * i, np.uint8)).save(tmp_path / f"{i}.png")
    with pytest.raises(BadInput, match=r"mixed image sizes.*\(--resize N\)"):
        as_source(str(tmp_path), EvalProtocol(), "samples", None)
    src = as_source(str(tmp_path), EvalProtocol(), "samples", None, resize=8)
    assert src.n == 4 and src.images.resolution == 8 and src.images.transform == "resize8-bicubic"
    args = build_parser().parse_args(["metrics", str(tmp_path), "fashion-mnist", "--resize", "8"])
    assert args.resize == 8  # the option the advice names exists on `ganbench metrics`


@pytest.mark.parametrize("text, message", [
    ("{tmp}/missing.npy", "does not exist"),
    ("folder:{tmp}/missing", "no such folder"),
    ("not-a-dataset", "unknown dataset 'not-a-dataset'"),
])
def test_missing_paths_are_called_missing(tmp_path, text, message):
    with pytest.raises(BadInput, match=message):
        as_source(text.format(tmp=tmp_path), EvalProtocol(), "samples", None)


def test_resize_and_range_are_refused_where_they_do_nothing(tmp_path):
    from ganbench.data import get_dataset

    np.save(tmp_path / "a.npy", np.zeros((4, 1, 8, 8), np.uint8))
    with pytest.raises(BadInput, match="--resize applies to folder: inputs"):
        get_dataset(f"arrays:{tmp_path / 'a.npy'}", resize=16)
    with pytest.raises(BadInput, match="--resize applies to folder: inputs, not to fashion-mnist"):
        get_dataset("fashion-mnist", resize=32)
    with pytest.raises(BadInput, match="--resize takes a size in pixels >= 1, got -3"):
        get_dataset("fashion-mnist", resize=-3)
