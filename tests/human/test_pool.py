"""A study's images: the run's samples and its reference images, encoded alike, behind opaque ids."""

import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.human.encoding import encode_png, png_length
from ganbench.human.pool import open_study, pool_counts, prepare
from ganbench.errors import BadInput
from tests.fakes import Calls, fake_backend

from .conftest import SMALL, make_run


def test_png_length_depends_on_shape_only():
    g = torch.Generator().manual_seed(0)
    images = [torch.zeros(1, 28, 28, dtype=torch.uint8), torch.full((1, 28, 28), 255, dtype=torch.uint8),
              *torch.randint(0, 256, (20, 1, 28, 28), generator=g, dtype=torch.uint8)]
    assert {len(encode_png(im)) for im in images} == {png_length((1, 28, 28))}
    rgb = torch.randint(0, 256, (3, 32, 32), generator=g, dtype=torch.uint8)
    assert len(encode_png(rgb)) == png_length((3, 32, 32))
    im = Image.open(io.BytesIO(encode_png(images[2])))
    assert im.mode == "L" and im.size == (28, 28) and not im.info  # no text, time, gamma or dpi chunks
    assert torch.equal(torch.from_numpy(np.array(im))[None], images[2])  # lossless


def test_pools_from_the_runs_samples_and_reference(study, tiny_run):
    ref = study.ref
    counts = pool_counts(ref)
    assert counts == {(m, t, r): n for m, t in ((None, "real"), ("dcgan", "fake"), ("wgan", "fake"))
                      for r, n in (("qualification", 4), ("tutorial", 4), ("study", 12))}
    # every image: one length, PNG, 28x28 grayscale, an opaque id (16 hex digits), no truth in the id or bytes
    assert len({len(b) for b in study.png.values()}) == 1
    assert all(re.fullmatch(r"[0-9a-f]{16}", i) for i in study.png) and len(set(study.png)) == len(study.png)
    with ref.store.read() as con:
        sources = {r["image_id"]: r["source"] for r in con.execute("SELECT image_id, source FROM human_images")}
    fakes = [i for i, im in study.images.items() if im.truth == "fake"]
    reals = [i for i, im in study.images.items() if im.truth == "real"]
    assert all(sources[i].startswith(("dcgan seed 0 sample", "wgan seed 0 sample")) for i in fakes)
    assert all(sources[i].startswith("fashion-mnist/train image") for i in reals)  # the paper's: training images
    # the generated images are the run's first samples (the fake sampler, seeded by the job's sample seed)
    backend = fake_backend(Calls())
    row = next(r for r in ref.store.query(model="dcgan"))
    G = backend.load_generator(row["provenance"]["checkpoint"])
    drawn = backend.sample(G, 20, seed=0).images[:, :, 2:30, 2:30]  # the 32x32 view cropped back to 28x28
    dcgan = {sources[i]: study.png[i] for i in fakes if sources[i].startswith("dcgan")}
    for src, png in dcgan.items():
        k = int(src.split("sample ")[1].split(" ")[0])
        pixels = torch.from_numpy(np.array(Image.open(io.BytesIO(png))))[None]
        assert torch.equal(pixels, drawn[k])


def test_prepare_keeps_existing_pools_and_validates(tiny_run, study):
    ref = open_study(tiny_run[0])
    before = pool_counts(ref)
    calls = Calls()
    prepare(ref, SMALL, backend=fake_backend(calls), progress=False)  # nothing drawn again
    assert pool_counts(ref) == before and calls.train == []
    with pytest.raises(BadInput, match="not in the run"):
        open_study(tiny_run[0], ["dcgan", "stylegan"])
    with pytest.raises(BadInput, match="given twice"):
        open_study(tiny_run[0], ["dcgan", "dcgan"])
    with pytest.raises(BadInput, match="not a ganbench run folder"):
        open_study(tiny_run[0] / "jobs")


@pytest.mark.parametrize("reals,split", [("train", "train"), ("reference", "test")])
def test_reals_from_the_training_split_or_the_reference(tmp_path, reals, split):
    """``reals="train"`` (the paper's) draws the dataset's training images, ``"reference"`` the run's reference (test)
    images, as ganbench did before; the pixels are the split's own images at the recorded indices."""
    import dataclasses

    run_dir, _ = make_run(tmp_path)
    backend = fake_backend(Calls())
    ref = open_study(run_dir)
    prepare(ref, dataclasses.replace(SMALL, reals=reals), backend=backend, progress=False)
    data = backend.get_dataset("fashion-mnist", split).uint8(slice(None))
    with ref.store.read() as con:
        rows = list(con.execute("SELECT source, png FROM human_images WHERE truth = 'real'"))
        settings = con.execute("SELECT protocol FROM human_studies").fetchone()[0]
    assert len(rows) == 20 and f'"reals": "{reals}"' in settings
    for r in rows:
        assert r["source"].startswith(f"fashion-mnist/{split} image ")
        k = int(r["source"].rsplit(" ", 1)[1])
        assert torch.equal(torch.from_numpy(np.array(Image.open(io.BytesIO(r["png"]))))[None], data[k])


def test_too_few_real_images_is_a_bad_input(tiny_run):
    import dataclasses

    ref = open_study(tiny_run[0])
    with pytest.raises(BadInput, match="training split has 40 images; the study's pools need 60"):
        prepare(ref, dataclasses.replace(SMALL, pool=52), backend=fake_backend(Calls()), progress=False)
    assert pool_counts(ref) == {}  # nothing stored
