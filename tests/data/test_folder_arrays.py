"""folder:PATH and arrays:PATH datasets, including their bad inputs."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.data import get_dataset
from ganbench.errors import BadInput


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def rgb_folder(tmp_path):
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (16, 16, 3), dtype=np.uint8) for _ in range(5)]
    for i, a in enumerate(arrays):
        _png(tmp_path / "imgs" / ("sub" if i % 2 else "") / f"{i}.png", a)
    return tmp_path / "imgs", arrays


def test_folder_recursive_rgb(rgb_folder):
    root, arrays = rgb_folder
    ds = get_dataset(f"folder:{root}")
    assert len(ds) == 5 and (ds.channels, ds.resolution) == (3, 16)
    x = ds.uint8(slice(None))
    assert x.shape == (5, 3, 16, 16) and x.dtype == torch.uint8
    files = sorted(p for p in root.rglob("*.png"))
    for i, f in enumerate(files):
        assert np.array_equal(x[i].permute(1, 2, 0).numpy(), np.asarray(Image.open(f)))


def test_folder_grayscale_and_formats(tmp_path):
    a = np.arange(64, dtype=np.uint8).reshape(8, 8)
    _png(tmp_path / "a.png", a)
    Image.fromarray(a).save(tmp_path / "b.bmp")
    ds = get_dataset(f"folder:{tmp_path}")
    assert ds.channels == 1 and len(ds) == 2
    assert all(np.array_equal(img[0].numpy(), a) for img in ds.uint8(slice(None)))
    # WebP stores even gray images as RGB: one colour file makes the whole set 3-channel
    Image.fromarray(a).save(tmp_path / "c.webp", lossless=True)
    ds = get_dataset(f"folder:{tmp_path}")
    assert ds.channels == 3 and len(ds) == 3
    assert all(np.array_equal(img[c].numpy(), a) for img in ds.uint8(slice(None)) for c in range(3))


def test_folder_empty(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(BadInput, match="holds no images"):
        get_dataset(f"folder:{tmp_path}")


def test_folder_missing(tmp_path):
    with pytest.raises(BadInput, match="no such folder"):
        get_dataset(f"folder:{tmp_path / 'nope'}")


def test_folder_unreadable_names_files(rgb_folder):
    root, _ = rgb_folder
    (root / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(BadInput, match=r"1 unreadable image\(s\): broken.png"):
        get_dataset(f"folder:{root}")


def test_folder_mixed_sizes_named_unless_resize(rgb_folder):
    root, _ = rgb_folder
    _png(root / "big.png", np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(BadInput, match=r"mixed image sizes.*big.png.*--resize"):
        get_dataset(f"folder:{root}")
    ds = get_dataset(f"folder:{root}", resize=8)
    assert ds.uint8(slice(None)).shape == (6, 3, 8, 8) and ds.transform == "resize8-bicubic"


@pytest.mark.parametrize("layout", ["nhwc", "nchw", "nhw"])
def test_arrays_uint8_layouts(tmp_path, layout):
    rng = np.random.default_rng(1)
    nchw = rng.integers(0, 256, (4, 3 if layout != "nhw" else 1, 8, 8), dtype=np.uint8)
    stored = {"nhwc": nchw.transpose(0, 2, 3, 1), "nchw": nchw, "nhw": nchw[:, 0]}[layout]
    np.save(tmp_path / "s.npy", stored)
    ds = get_dataset(f"arrays:{tmp_path / 's.npy'}")
    assert np.array_equal(ds.uint8(slice(None)).numpy(), nchw)


def test_arrays_float_with_range(tmp_path):
    x = np.linspace(-1, 1, 2 * 8 * 8 * 3, dtype=np.float32).reshape(2, 8, 8, 3)
    np.savez(tmp_path / "s.npz", images=x, labels=np.zeros(2))
    ds = get_dataset(f"arrays:{tmp_path / 's.npz'}", value_range=(-1, 1))
    got = ds.uint8(slice(None)).numpy().transpose(0, 2, 3, 1).astype(np.float64)
    assert np.abs(got - (x + 1) * 127.5).max() <= 0.5  # rounding only
    with pytest.raises(BadInput, match="range stated"):
        get_dataset(f"arrays:{tmp_path / 's.npz'}")
    with pytest.raises(BadInput, match="outside the stated range"):
        get_dataset(f"arrays:{tmp_path / 's.npz'}", value_range=(0, 1))


def test_arrays_nan_and_bad_shapes(tmp_path):
    x = np.zeros((2, 3, 8, 8), np.float32)
    x[1, 0, 0, 0] = np.nan
    np.save(tmp_path / "nan.npy", x)
    with pytest.raises(BadInput, match="1 NaN/Inf"):
        get_dataset(f"arrays:{tmp_path / 'nan.npy'}", value_range=(0, 1))
    np.save(tmp_path / "flat.npy", np.zeros((10, 64), np.uint8))
    with pytest.raises(BadInput, match="expected images"):
        get_dataset(f"arrays:{tmp_path / 'flat.npy'}")
    np.save(tmp_path / "c5.npy", np.zeros((2, 5, 8, 8), np.uint8))
    with pytest.raises(BadInput, match="no channel axis"):
        get_dataset(f"arrays:{tmp_path / 'c5.npy'}")
    np.save(tmp_path / "rect.npy", np.zeros((2, 3, 8, 6), np.uint8))
    with pytest.raises(BadInput, match="square"):
        get_dataset(f"arrays:{tmp_path / 'rect.npy'}")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(BadInput, match="cannot read"):
        get_dataset(f"arrays:{tmp_path / 'junk.npz'}")


def test_16_bit_images_are_read_at_their_depth_not_clipped(tmp_path):
    """The same images saved as 8-bit and as 16-bit PNGs (value x 257) read back as the same uint8 pixels (they
    used to be clipped at 255: FID 531 between them), and modes without one 8-bit reading are refused."""
    import numpy as np
    from PIL import Image

    from ganbench.data import get_dataset
    from ganbench.errors import BadInput

    g = np.random.default_rng(0)
    imgs = g.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    for folder, convert in (("eight", lambda a: a), ("sixteen", lambda a: a.astype(np.uint16) * 257)):
        (tmp_path / folder).mkdir()
        for i, a in enumerate(imgs):
            Image.fromarray(convert(a)).save(tmp_path / folder / f"{i}.png")
    assert Image.open(tmp_path / "sixteen" / "0.png").mode.startswith("I")
    eight, sixteen = (get_dataset(f"folder:{tmp_path / f}").uint8(slice(None)) for f in ("eight", "sixteen"))
    assert torch.equal(eight, sixteen) and sixteen.shape == (6, 1, 28, 28)
    (tmp_path / "float").mkdir()
    Image.fromarray(imgs[0].astype(np.float32)).save(tmp_path / "float" / "0.tif")
    with pytest.raises(BadInput, match="floating-point"):
        get_dataset(f"folder:{tmp_path / 'float'}")
