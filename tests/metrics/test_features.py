"""Feature extraction: equal to torch-fidelity's extractor (<= 1e-4 on pool3), batch-size invariant."""

import pytest
import torch

from ganbench.errors import BadInput
from ganbench.images import to_uint8
from ganbench.metrics.features import inception_features
from ganbench.metrics.inception import build_inception


@pytest.fixture(scope="module")
def ours_and_theirs(real_weights, real_weights_file, samples, tf):
    x = samples[:12]
    ours = inception_features(x, weights=str(real_weights_file), batch_size=12, progress=False, device="cpu")
    with torch.inference_mode():
        (theirs,) = tf.extractor(real_weights_file)(x.expand(-1, 3, -1, -1).contiguous())
    return ours, theirs


def test_pool3_matches_torch_fidelity(ours_and_theirs):
    ours, theirs = ours_and_theirs
    assert ours["pool3"].shape == (12, 2048)
    assert (ours["pool3"] - theirs).abs().max().item() <= 1e-4
    assert "logits" not in ours  # pool3-only weights: no head


def test_batch_size_invariance(ours_and_theirs, real_weights, samples):
    model = build_inception(real_weights)
    other = inception_features(samples[:12], batch_size=5, progress=False, device="cpu", model=model)
    assert (other["pool3"] - ours_and_theirs[0]["pool3"]).abs().max().item() <= 1e-5


def test_cpu_micro_batches_give_the_one_pass_features_and_logits(random_head_file, samples, monkeypatch):
    """On a CPU a batch of 20 goes through in micro-batches of 16 and 4 (ganbench.metrics.inception.CPU_MICRO_BATCH):
    pool3 and logits in order, equal to one pass over the 20 (1e-5; bit for bit on the CPUs measured)."""
    from ganbench.metrics import inception
    from ganbench.metrics.weights import load_weights

    net = build_inception(load_weights(random_head_file))
    calls = []
    one_pass = net._one_pass
    monkeypatch.setattr(net, "_one_pass", lambda x, logits: calls.append(len(x)) or one_pass(x, logits))
    with torch.inference_mode():
        pool3, logits = net(samples)
        monkeypatch.setattr(inception, "CPU_MICRO_BATCH", 64)
        whole_pool3, whole_logits = net(samples)
    assert calls == [16, 4, 20]
    assert (pool3 - whole_pool3).abs().max().item() <= 1e-5 * max(1.0, whole_pool3.abs().max().item())
    assert (logits - whole_logits).abs().max().item() <= 1e-5 * max(1.0, whole_logits.abs().max().item())


def test_nvidia_mapping_matches_its_own_torchscript(helper_path, real_weights, samples):
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    x = samples[:3].expand(-1, 3, -1, -1).float()
    jit = torch.jit.load(str(helper_path), map_location="cpu")
    with torch.inference_mode():
        expected = jit((interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False) - 128) / 128)
        got, _ = build_inception(real_weights)(samples[:3])
    assert (got - expected).abs().max().item() <= 1e-4


def test_logits_match_torch_fidelity_unbiased_logits(random_head_file, samples, tf):
    from ganbench.metrics.weights import load_weights

    w = load_weights(random_head_file)
    assert w.has_head and w.format == "torch-fidelity"
    with torch.inference_mode():
        pool3, logits = build_inception(w)(samples[:4])
        ref_pool3, ref_logits = tf.extractor(random_head_file, ("2048", "logits_unbiased"))(
            samples[:4].expand(-1, 3, -1, -1).contiguous())
    assert (pool3 - ref_pool3).abs().max().item() <= 1e-4 * max(1.0, ref_pool3.abs().max().item())
    assert (logits - ref_logits).abs().max().item() <= 1e-4 * max(1.0, ref_logits.abs().max().item())


def test_wrong_channel_count_is_bad_input(real_weights):
    model = build_inception(real_weights)
    with pytest.raises(BadInput, match="channels"):
        inception_features(torch.zeros(2, 2, 8, 8, dtype=torch.uint8), progress=False, model=model, device="cpu")


def test_to_uint8_mapping_and_nan():
    x = torch.tensor([-1.0, 0.0, 1.0])
    assert to_uint8(x).tolist() == [0, 128, 255]  # round(127.5) = 128 (half to even)
    with pytest.raises(BadInput, match="NaN"):
        to_uint8(torch.tensor([float("nan")]))
