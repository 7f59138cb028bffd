"""The feature-network registry: a network added in one module is a feature space of every feature-based metric,
keys the reference cache by its own signature, and FD in it accumulates moments (constant memory in N)."""

import hashlib
import json

import pytest
import torch

from ganbench.config import EvalProtocol
from ganbench.errors import BadInput
from ganbench.metrics import cache
from ganbench.metrics.evaluate import EvaluateOptions, evaluate
from ganbench.metrics.fid import fid_from_features
from ganbench.metrics.networks import NETWORKS, parse_weight_files
from ganbench.metrics.networks.base import network

DIM = 6
PROJ = torch.randn(28 * 28, DIM, generator=torch.Generator().manual_seed(0))


class Projection:
    """A tiny network: a fixed random projection of the pixels."""

    module = torch.nn.Identity()

    def __call__(self, images, wanted):
        return {"proj6": images.float().flatten(1) @ PROJ / 255.0}

    def signature(self):
        return {"weights_sha256": "0" * 64, "extractor": "proj6-test"}


# the whole of what adding a network takes: this registration
@network("proj6", label="Proj6", main="proj6", features={"proj6": DIM}, description="a test projection",
         weights="none", preprocessing="none")
def _load(options):
    return Projection()


def _images(n, seed):
    return torch.randint(0, 256, (n, 1, 28, 28), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def test_a_registered_network_is_the_space_of_every_feature_metric():
    a, b = _images(40, 1), _images(50, 2)
    p = EvalProtocol(features="proj6", kid_subset_size=20, kid_subsets=5)
    fd = evaluate(a, b, metrics=("fid",), protocol=p, progress=False, options=EvaluateOptions(cache=False))
    fa, fb = Projection()(a, set())["proj6"], Projection()(b[:40], set())["proj6"]  # ref_samples: as many
    # FD alone, n = 40 > D = 6: the samples' FD came from moments accumulated batch by batch, equal to the rows'
    assert fd["provenance"]["samples"]["moments_only"] == ["proj6"]
    assert fd["metrics"]["fid"] == pytest.approx(fid_from_features(fa, fb), rel=1e-9)
    r = evaluate(a, b, metrics=("fid", "kid", "pr", "dc", "vendi"), protocol=p, progress=False,
                 options=EvaluateOptions(cache=False))
    assert r["metrics"]["fid"] == pytest.approx(fd["metrics"]["fid"], rel=1e-9)
    assert set(r["metrics"]) >= {"fid", "kid_mean", "precision", "recall", "density", "coverage", "vendi"}
    assert r["provenance"]["feature_space"] == "Proj6" and "inception" not in r["provenance"]["networks"]
    assert "weights_sha256" not in r["provenance"]  # Inception was never loaded


def test_moments_only_when_every_reader_needs_them_and_n_exceeds_the_dimension():
    a, b = _images(40, 1), _images(50, 2)
    p = EvalProtocol(features="proj6")
    with_kid = evaluate(a, b, metrics=("fid", "kid"), protocol=EvalProtocol(features="proj6", kid_subset_size=20,
                                                                           kid_subsets=5), progress=False,
                        options=EvaluateOptions(cache=False))
    assert "moments_only" not in with_kid["provenance"]["samples"]  # KID reads the rows: they are kept
    few = evaluate(a[:5], b, metrics=("fid",), protocol=p, progress=False, options=EvaluateOptions(cache=False))
    assert "moments_only" not in few["provenance"]["samples"]  # N <= D: the exact low-rank path on the rows
    fa, fb = Projection()(a[:5], set())["proj6"], Projection()(b[:5], set())["proj6"]
    assert few["metrics"]["fid"] == pytest.approx(fid_from_features(fa, fb), rel=1e-12)


def test_cache_keys_follow_each_networks_signature():
    inc = {"inception": {"weights_sha256": "a" * 64, "resize_mode": "tf1", "extractor": "ganbench-inception-1"}}
    # Inception-only keys hash exactly the fields they always held: entries made before the registry still hit
    old = {"format": cache.FORMAT, "content": "c", "n": 10, "resize_mode": "tf1", "weights_sha256": "a" * 64,
           "extractor": "ganbench-inception-1", "features": ["pool3"]}
    assert cache.reference_key("c", 10, inc, ("pool3",)) == \
        hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:32]
    other = {"proj6": {"weights_sha256": "0" * 64, "extractor": "proj6-test"}}
    changed = {"proj6": {"weights_sha256": "1" * 64, "extractor": "proj6-test"}}
    assert cache.reference_key("c", 10, other, ("proj6",)) != cache.reference_key("c", 10, changed, ("proj6",))


def test_bad_names_are_one_line_errors():
    with pytest.raises(BadInput, match="unknown feature network 'nope'"):
        evaluate(_images(4, 1), _images(4, 2), metrics=("fid",), protocol=EvalProtocol(features="nope"),
                 progress=False)
    with pytest.raises(BadInput, match="NETWORK=PATH"):
        parse_weight_files(["dinov2"])
    with pytest.raises(BadInput, match="unknown feature network"):
        parse_weight_files(["nope=x.pth"])
    assert {"inception", "vgg16", "dinov2", "clip", "fmnist", "pixels"} <= set(NETWORKS)
