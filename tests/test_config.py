"""Strict model-spec loading: unknown keys, wrong types and impossible combinations fail at load time."""

import pytest

from ganbench.config import ModelSpec, from_dict, spec_to_yaml
from ganbench.zoo.specs import load_spec_file, validate_spec
from ganbench.errors import BadInput


def load(tmp_path, text):
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return load_spec_file(p)


def test_defaults_and_round_trip(tmp_path):
    spec = load(tmp_path, "loss: hinge\narch: {name: resnet}\noptim_d: {lr: 4e-4, betas: [0.0, 0.9]}\n")
    assert spec.name == "m" and spec.optim_d.lr == 4e-4 and spec.optim_d.betas == (0.0, 0.9)
    assert load(tmp_path, spec_to_yaml(spec)) == spec


@pytest.mark.parametrize("text,match", [
    ("lossy: ns\n", "unknown key"),
    ("tricks: {n_critc: 5}\n", "unknown key"),
    ("batch_size: big\n", "expected int"),
    ("loss: nope\n", "unknown loss 'nope'; known losses: minimax"),
    ("arch: {name: vgg}\n", "unknown architecture"),
    ("arch: {name: dcgan, variant: big}\n", "variant"),
    ("arch: {name: resnet, d_norm: batch}\n", "d_norm"),
    ("tricks: {diffaugment: 'flip'}\n", "DiffAugment"),
    ("optim_g: {name: adagrad}\n", "unknown optimiser"),
    ("optim_g: {lr: -1}\n", "lr > 0"),
    ("loss: wgan\ntricks: {weight_clip: 0.01, gradient_penalty: 10}\narch: {d_norm: none}\n", "weight clipping"),
    ("loss: hinge\ntricks: {label_smoothing: 0.1}\n", "label smoothing"),
    ("tricks: {gradient_penalty: 10}\narch: {d_norm: batch}\n", "batch norm"),
    ("tricks: {r1: 1}\n", "batch norm"),  # dcgan's default D norm is batch
    ("tricks: {n_critic: 0}\n", "n_critic"),
    ("tricks: {ema: 1.5}\n", "ema"),
])
def test_rejects(tmp_path, text, match):
    with pytest.raises(BadInput, match=match):
        load(tmp_path, text)


def test_not_yaml_and_missing(tmp_path):
    with pytest.raises(BadInput, match="not valid YAML"):
        load(tmp_path, "loss: [unclosed\n")
    with pytest.raises(BadInput, match="does not exist"):
        load_spec_file(tmp_path / "none.yaml")


def test_hash_ignores_prose_only():
    a = validate_spec(from_dict(ModelSpec, {"name": "a", "description": "x"}))
    b = validate_spec(from_dict(ModelSpec, {"name": "b", "description": "y"}))
    c = validate_spec(from_dict(ModelSpec, {"name": "a", "batch_size": 32}))
    assert a.hash() == b.hash() != c.hash()
