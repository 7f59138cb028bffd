"""The reference cache stands for content, and a bad entry is a miss: never a silently wrong number.

Each case compares against the same evaluation with the cache off (tolerance 1e-9 relative: the same
features give the same FID), on 6 real Fashion-MNIST images a side.
"""

import dataclasses
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from ganbench.config import DEFAULT_PROTOCOL
from ganbench.io import cache_dir
from ganbench.metrics import cache
from ganbench.metrics.evaluate import EvaluateOptions, evaluate

P = dataclasses.replace(DEFAULT_PROTOCOL, feature_batch_size=6)


@pytest.fixture(scope="module")
def model(real_weights):
    from ganbench.metrics.inception import build_inception

    return build_inception(real_weights)


def fid(samples, reference, model, use_cache=True):
    r = evaluate(samples, reference, metrics=("fid",), device="cpu", protocol=P, progress=False,
                 options=EvaluateOptions(cache=use_cache, model=model))
    return r["metrics"]["fid"], (r["provenance"]["reference"] or {}).get("cache_hit")


def test_in_memory_references_are_keyed_by_content(samples, reference, model):
    a, b = samples[:6], reference[:6]
    same, _ = fid(a, a, model)
    other, hit = fid(a, b, model)
    # FID of a set against itself: 0 up to the float64 noise of the square root of a rank-6 covariance, which moves
    # with the BLAS thread count (-1.6e-6 on 1 thread here); a different set is > 50
    assert same == pytest.approx(0, abs=1e-5) and not hit
    assert other == pytest.approx(fid(a, b, model, use_cache=False)[0], rel=1e-9) and other > 50


def test_a_folder_with_new_images_is_a_miss(samples, reference, model, tmp_path):
    folder = tmp_path / "ref"
    folder.mkdir()
    for i, img in enumerate(reference[:6]):
        Image.fromarray(img[0].numpy()).save(folder / f"{i}.png")
    first, hit1 = fid(samples[:6], str(folder), model)
    again, hit2 = fid(samples[:6], str(folder), model)
    assert not hit1 and hit2 and again == first
    for i, img in enumerate(samples[6:12]):  # same names, other pixels
        Image.fromarray(img[0].numpy()).save(folder / f"{i}.png")
    changed, hit3 = fid(samples[:6], str(folder), model)
    assert not hit3 and changed == pytest.approx(fid(samples[:6], samples[6:12], model, use_cache=False)[0], rel=1e-9)


def _entry():
    (entry,) = cache.entries()
    return cache_dir("reference") / f"{entry['key']}.pt", entry


def test_a_corrupt_entry_is_a_miss(samples, reference, model):
    truth, _ = fid(samples[:6], reference[:6], model)
    path, _ = _entry()
    data = bytearray(path.read_bytes())
    mid = len(data) // 2  # the 6 x 2048 float32 features are most of the file
    data[mid:mid + 16] = bytes(b ^ 0xFF for b in data[mid:mid + 16])  # 16 bytes of tensor data flipped
    path.write_bytes(bytes(data))
    again, hit = fid(samples[:6], reference[:6], model)
    assert not hit and again == pytest.approx(truth, rel=1e-9)  # recomputed, and the entry rewritten
    assert fid(samples[:6], reference[:6], model)[1]


def test_an_entry_copied_under_another_key_is_a_miss(samples, reference, model):
    fid(samples[:6], reference[:6], model)
    src, entry = _entry()
    truth, _ = fid(samples[:6], reference[6:12], model, use_cache=False)
    fid(samples[:6], reference[6:12], model)  # a second entry, whose files we now overwrite with the first's
    other = next(e for e in cache.entries() if e["key"] != entry["key"])
    shutil.copy(src, cache_dir("reference") / f"{other['key']}.pt")
    shutil.copy(src.with_suffix(".json"), cache_dir("reference") / f"{other['key']}.json")
    got, hit = fid(samples[:6], reference[6:12], model)
    assert not hit and got == pytest.approx(truth, rel=1e-9)


def test_non_finite_or_wrong_size_entries_are_misses(samples, reference, model):
    fid(samples[:6], reference[:6], model)
    path, entry = _entry()
    import torch

    feats = torch.load(path, weights_only=True)
    feats["pool3"][0, 0] = float("inf")
    torch.save(feats, path)
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["checksum"] = cache.checksum(feats)  # even with a matching checksum
    path.with_suffix(".json").write_text(json.dumps(meta))
    assert cache.load(entry["key"]) is None
    feats["pool3"] = feats["pool3"][:5].clone()
    feats["pool3"][0, 0] = 1.0
    torch.save(feats, path)
    meta["checksum"] = cache.checksum(feats)
    path.with_suffix(".json").write_text(json.dumps(meta))
    assert cache.load(entry["key"]) is None  # 5 rows where the key says 6
    assert np.isfinite(fid(samples[:6], reference[:6], model)[0])
