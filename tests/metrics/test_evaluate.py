"""evaluate() end to end against torch-fidelity's calculate_metrics, plus bad input and the CLI."""

import dataclasses

import numpy as np
import pytest
import torch

from ganbench.cli import main
from ganbench.config import DEFAULT_PROTOCOL
from ganbench.errors import BadInput, MissingAsset
from ganbench.metrics import cache
from ganbench.metrics.evaluate import EvaluateOptions, evaluate

P = dataclasses.replace(DEFAULT_PROTOCOL, kid_subsets=5, kid_subset_size=10, seed=2020, feature_batch_size=64)


@pytest.fixture(scope="module")
def model(real_weights):
    """One extractor shared by the tests that do not compare against torch-fidelity (building one takes seconds)."""
    from ganbench.metrics.inception import build_inception

    return build_inception(real_weights)


@pytest.fixture(scope="module")
def ours(samples, reference, real_weights_file):
    return evaluate(samples[:12], reference[:12], metrics=("fid", "kid", "pr", "dc", "is"), device="cpu", protocol=P,
                    progress=False, options=EvaluateOptions(cache=False, inception_weights=str(real_weights_file)))


def test_fid_kid_pr_equal_torch_fidelity(ours, samples, reference, real_weights_file, tf):
    from torch_fidelity import calculate_metrics

    ref = calculate_metrics(input1=tf.Dataset(samples[:12]), input2=tf.Dataset(reference[:12]), fid=True, kid=True, prc=True,
                            feature_extractor="inception-v3-compat", feature_layer_prc="2048",
                            feature_extractor_weights_path=str(real_weights_file),
                            kid_subsets=5, kid_subset_size=10, rng_seed=2020, **tf.kwargs())
    m = ours["metrics"]
    assert m["fid"] == pytest.approx(ref["frechet_inception_distance"], rel=1e-4)
    assert m["kid_mean"] == pytest.approx(ref["kernel_inception_distance_mean"], abs=1e-4)
    assert m["kid_std"] == pytest.approx(ref["kernel_inception_distance_std"], abs=1e-4)
    assert m["precision"] == pytest.approx(ref["precision"], abs=1e-4)
    assert m["recall"] == pytest.approx(ref["recall"], abs=1e-4)


def test_is_unavailable_without_head_but_others_computed(ours, real_weights_file):
    assert "is" in ours["unavailable"] and "classifier head" in ours["unavailable"]["is"]
    assert "/" not in ours["unavailable"]["is"]  # the weights named by origin and hash, never a local path
    assert {"fid", "kid_mean", "precision", "density", "coverage"} <= set(ours["metrics"])
    prov = ours["provenance"]
    assert prov["resize_mode"] == "tf1" and len(prov["weights_sha256"]) == 64
    assert prov["feature_spaces"]["pr"] == "inception-pool3" and prov["num_samples"] == 12
    assert prov["ref_samples"] == 12


def test_is_equals_torch_fidelity_with_random_head(samples, random_head_file, tf):
    from torch_fidelity import calculate_metrics

    ref = calculate_metrics(input1=tf.Dataset(samples[:12]), isc=True, isc_splits=2, rng_seed=2020,
                            feature_extractor_weights_path=str(random_head_file), **tf.kwargs())
    got = evaluate(samples[:12], None, metrics=("is",), device="cpu", protocol=dataclasses.replace(P, is_splits=2),
                   progress=False, options=EvaluateOptions(inception_weights=str(random_head_file)))["metrics"]
    assert got["is_mean"] == pytest.approx(ref["inception_score_mean"], rel=1e-3)
    assert got["is_std"] == pytest.approx(ref["inception_score_std"], rel=1e-3, abs=1e-6)


def test_reference_cache_and_npz_statistics(samples, fmnist, real_weights_file, tmp_path, model):
    kw = dict(metrics=("fid",), device="cpu", protocol=dataclasses.replace(P, ref_samples=6), progress=False,
              options=EvaluateOptions(model=model, inception_weights=str(real_weights_file)))
    first = evaluate(samples[6:12], fmnist, **kw)
    second = evaluate(samples[6:12], fmnist, **kw)
    assert not first["provenance"]["reference"]["cache_hit"] and second["provenance"]["reference"]["cache_hit"]
    assert second["metrics"]["fid"] == pytest.approx(first["metrics"]["fid"], rel=1e-12)
    (entry,) = cache.entries()
    assert entry["n"] == 6 and (entry["source"]["dataset"], entry["source"]["split"]) == ("fashion-mnist", "test")
    # The cached features as a pytorch-fid .npz reference give the same FID.
    feats = cache.load(entry["key"])["pool3"].double()
    np.savez(tmp_path / "stats.npz", mu=feats.mean(0).numpy(), sigma=np.cov(feats.numpy(), rowvar=False))
    third = evaluate(samples[6:12], str(tmp_path / "stats.npz"), **kw)
    assert third["metrics"]["fid"] == pytest.approx(first["metrics"]["fid"], rel=1e-6)
    assert cache.clear() == 1 and cache.entries() == []


def test_cache_key_changes_with_every_input():
    def key(content="fashion-mnist/test/none", n=100, mode="tf1", sha="a" * 64, names=("pool3",), networks=None):
        sig = networks or {"inception": {"weights_sha256": sha, "resize_mode": mode, "extractor": "x"}}
        return cache.reference_key(content, n, sig, names)

    vgg = {"inception": {"weights_sha256": "a" * 64, "resize_mode": "tf1", "extractor": "x"},
           "vgg16": {"weights_sha256": "c" * 64, "extractor": "y"}}
    keys = {key(), key(content="mnist/test/none"), key(n=101), key(mode="clean"), key(sha="b" * 64),
            key(names=("pool3", "vgg16"), networks=vgg),
            key(names=("pool3", "vgg16"), networks={**vgg, "vgg16": {"weights_sha256": "d" * 64, "extractor": "y"}})}
    assert len(keys) == 7  # new VGG16 weights invalidate an entry too


def test_bad_inputs_nothing_cached(samples, real_weights_file, fmnist, model):
    kw = dict(device="cpu", progress=False, protocol=P,
              options=EvaluateOptions(model=model, inception_weights=str(real_weights_file)))
    with pytest.raises(BadInput, match="at least 2"):
        evaluate(samples[:1], fmnist, metrics=("fid",), **kw)
    nan = torch.full((4, 1, 8, 8), float("nan"))
    with pytest.raises(BadInput, match="NaN"):
        evaluate(nan, fmnist, metrics=("fid",), **kw)
    with pytest.raises(BadInput, match="channel"):
        evaluate(torch.zeros(4, 2, 8, 8, dtype=torch.uint8), fmnist, metrics=("fid",), **kw)
    with pytest.raises(MissingAsset, match="classifier head"):
        evaluate(samples, None, metrics=("is",), **kw)
    with pytest.raises(BadInput, match="unknown metric"):
        evaluate(samples, fmnist, metrics=("fidd",), **kw)
    assert cache.entries() == []


def test_generator_callable_is_seeded(real_weights_file, model):
    def gen(z):
        return torch.tanh(z[:, :64].reshape(-1, 1, 8, 8))
    gen.z_dim = 64
    kw = dict(metrics=("fid",), num_samples=6, device="cpu", progress=False,
              protocol=dataclasses.replace(P, feature_batch_size=4),
              options=EvaluateOptions(model=model, inception_weights=str(real_weights_file)))
    a = evaluate(gen, torch.zeros(6, 1, 8, 8, dtype=torch.uint8) + 100, **kw)
    b = evaluate(gen, torch.zeros(6, 1, 8, 8, dtype=torch.uint8) + 100, **kw)
    assert a["metrics"]["fid"] == b["metrics"]["fid"] and a["metrics"]["fid"] > 0
    assert a["provenance"]["samples"]["kind"] == "generator"


def test_cli_exit_codes(tmp_path, real_weights_file, capsys):
    bad = tmp_path / "weights.pth"
    torch.save({"foo": torch.zeros(3)}, bad)
    assert main(["metrics", "fashion-mnist", "fashion-mnist", "--num-samples", "4", "--inception-weights",
                 str(bad)]) == 2
    assert "unknown format" in capsys.readouterr().err
    text = tmp_path / "weights.bin"
    text.write_text("not weights")
    assert main(["metrics", "fashion-mnist", "fashion-mnist", "--inception-weights", str(text)]) == 2
    assert main(["metrics", "fashion-mnist", "--metrics", "fid"]) == 2
    assert main(["cache", "list"]) == 0 and "empty" in capsys.readouterr().out
