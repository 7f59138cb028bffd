"""Strict model-spec loading: unknown keys, wrong types and impossible combinations fail at load time."""

import pytest

from ganbench.config import ModelSpec, from_dict, spec_to_yaml
from ganbench.zoo.baselines import load_baseline
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
    ("arch: {output: relu}\n", "arch.output"),
    ("arch: {name: pggan, output: sigmoid}\n", "not available for pggan"),
    ("tricks: {g_latents: old}\n", "g_latents"),
    ("tricks: {grad_norm_eps: -1}\n", "grad_norm_eps"),
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


def test_base_spec_is_overridden_key_by_key(tmp_path):
    """``base:`` starts from another spec: mappings merge key by key, other values and the name are the file's."""
    (tmp_path / "parent.yaml").write_text("loss: hinge\nbatch_size: 32\narch: {name: resnet, z_dim: 64}\n"
                                          "tricks: {n_critic: 5, gradient_penalty: 10.0}\n")
    child = tmp_path / "child.yaml"
    child.write_text("base: parent\ntricks: {n_critic: 1}\noptim_d: {lr: 4.0e-4, betas: [0.0, 0.9]}\n")
    spec, parent = load_spec_file(child), load_spec_file(tmp_path / "parent.yaml")
    assert spec.name == "child" and spec.loss == "hinge" and spec.batch_size == 32
    assert (spec.arch.name, spec.arch.z_dim) == ("resnet", 64)
    assert (spec.tricks.n_critic, spec.tricks.gradient_penalty) == (1, 10.0)
    assert (spec.optim_d.lr, spec.optim_d.betas) == (4e-4, (0.0, 0.9))
    # the same spec as writing every field out: hashes agree with the flat file's
    flat = tmp_path / "flat.yaml"
    flat.write_text(spec_to_yaml(spec))
    assert load_spec_file(flat).hash() == spec.hash() != parent.hash()
    # a chain (grandparent by relative path) and a zoo baseline by name
    (tmp_path / "grandchild.yaml").write_text("base: child.yaml\nbatch_size: 16\n")
    g = load_spec_file(tmp_path / "grandchild.yaml")
    assert (g.batch_size, g.tricks.n_critic, g.loss) == (16, 1, "hinge")
    (tmp_path / "mine.yaml").write_text("base: lucic-ns\noptim_g: {lr: 1.0e-4}\n")
    mine, ns = load_spec_file(tmp_path / "mine.yaml"), load_baseline("lucic-ns")
    assert mine.optim_g.lr == 1e-4 and mine.optim_g.betas == ns.optim_g.betas and mine.arch == ns.arch


@pytest.mark.parametrize("files,match", [
    ({"m.yaml": "base: nosuch\n"}, "neither a spec next to it nor a baseline"),
    ({"m.yaml": "base: 3\n"}, "base must name"),
    ({"m.yaml": "base: other.yaml\n"}, "does not exist"),
    ({"m.yaml": "base: a\n", "a.yaml": "base: m\n"}, "loops"),
    ({"m.yaml": "base: m\n"}, "loops"),
    ({"m.yaml": "base: a\n", "a.yaml": "- 1\n"}, "does not hold a mapping"),
    ({"m.yaml": "base: a\nlossy: ns\n", "a.yaml": "loss: ns\n"}, "unknown key"),
])
def test_bad_base_is_one_clear_error(tmp_path, files, match):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(BadInput, match=match):
        load_spec_file(tmp_path / "m.yaml")


def test_a_penalty_through_batch_norm_loads_when_the_spec_says_so(tmp_path):
    spec = load(tmp_path, "tricks: {dragan: 10, penalty_through_batch_norm: true}\narch: {d_norm: batch}\n")
    assert spec.tricks.penalty_through_batch_norm and spec.arch.d_norm == "batch"
