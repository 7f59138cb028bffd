"""How a model sees its data (``ganbench.zoo.view``): resolution, padding and value range decided once.

The Lucic specs see [0, 1] pixels with a sigmoid G, as google/compare_gan v1 does (gan_lib.py
unpack_png_image: ``tf.cast(image, tf.float32) / 255.0``; abstract_gan.py generator: ``tf.nn.sigmoid``);
every other baseline keeps [-1, 1] with tanh.
"""

import pytest
import torch

from ganbench.data import TensorImageSet
from ganbench.errors import BadInput
from ganbench.train.data import BatchStream
from ganbench.train.trainer import resolve_view
from ganbench.zoo.baselines import load_baseline
from ganbench.zoo.nets import build_nets
from ganbench.zoo.sampler import sample
from ganbench.zoo.view import View, stored_view, view_for


def _set(res=28, n=4):
    u = torch.arange(n * res * res, dtype=torch.int64).remainder(256).to(torch.uint8).view(n, 1, res, res)
    return TensorImageSet(u, "toy", "train", "test")


def test_lucic_nets_see_zero_one_pixels_as_compare_gan():
    data = _set()
    view = view_for(load_baseline("lucic-ns"), data, "native")
    assert view == View("native", 28, 28, "none", (0.0, 1.0))
    u = data.uint8(slice(None))
    assert torch.equal(view.to_float(u), u.float() / 255.0)  # gan_lib.py: tf.cast(image, tf.float32) / 255.0
    stream = BatchStream(u, 4, seed=0, value_range=view.value_range)
    x, _ = stream()
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert torch.equal(torch.sort(x.flatten())[0], torch.sort((u.float() / 255.0).flatten())[0])


def test_other_baselines_keep_minus_one_one_and_pad_under_pad32():
    data = _set()
    view = view_for(load_baseline("dcgan"), data, "pad32")
    assert view == View("pad32", 32, 28, "pad", (-1.0, 1.0))
    assert view.apply(data).transform == "pad28to32"
    padded = view.apply(data).uint8(slice(None))
    assert torch.equal(view.to_native(padded), data.uint8(slice(None)))  # the crop undoes the pad exactly
    u = data.uint8(slice(None))
    assert torch.equal(view.to_float(u), u.float() / 127.5 - 1.0)
    # pggan cannot take 28 px: padded even under "native"; the mlp takes any size as it is
    assert view_for(load_baseline("pggan"), data, "native").resolution == 32
    assert view_for(load_baseline("gan"), data, "pad32").mode == "none"


def test_a_sigmoid_generator_becomes_uint8_from_its_own_range():
    """eval_gan_lib.py: fake_images *= 255.0 from G's [0, 1] output; ours rounds to uint8 there, once."""
    spec = load_baseline("lucic-ns")
    G, _ = build_nets(spec.arch, (1, 28, 28), seed=0)
    assert G.value_range == (0.0, 1.0) and isinstance(G.conv[-1], torch.nn.Sigmoid)
    G.eval()
    got = sample(G, 6, seed=1).images
    from ganbench.zoo.sampler import draw_inputs
    with torch.no_grad():
        raw = G(draw_inputs(G, 6, 1).z)
    assert torch.equal(got, (raw * 255.0).round().clamp(0, 255).to(torch.uint8))


def test_a_view_given_to_training_must_be_the_specs_and_round_trips_through_provenance():
    data = _set()
    ns, dcgan = load_baseline("lucic-ns"), load_baseline("dcgan")
    with pytest.raises(BadInput, match="sigmoid"):
        resolve_view(ns, data, view_for(dcgan, data, "native"))
    view = view_for(ns, data, "native")
    assert resolve_view(ns, data, view) is view
    assert stored_view({"view": view.describe()}, data) == view
    # a row from before views were recorded: the policy name and the spec decide it again
    assert stored_view({"view": "native", "spec": ns.to_dict()}, data) == view
    with pytest.raises(BadInput, match="32 px"):
        View("native", 28, 32).apply(data)
