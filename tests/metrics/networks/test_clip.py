"""CLIP ViT-L/14@336px on its real code path at random initialisation: google-research/cmmd's preprocessing
(io_util.py ``_center_crop_and_resize``: PIL crop and bicubic resize; / 255; CLIP's normalisation), OpenAI's
checkpoint layout through torch-fidelity's ``build_model``, L2-normalised embeddings, and the message without
weights."""

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.errors import MissingAsset
from ganbench.metrics.networks import clip
from ganbench.metrics.networks.base import NetOptions


def cmmd_preprocess(arr: np.ndarray) -> np.ndarray:
    """io_util.py: centre crop to a square, PIL bicubic resize to 336, gray tiled to RGB, / 255, then CLIP's
    normalize_image."""
    im = Image.fromarray(arr)
    w, h = im.size
    side = min(w, h)
    top, left = (h - side) // 2, (w - side) // 2
    im = im.crop((left, top, left + side, top + side)).resize((336, 336), resample=Image.BICUBIC)
    x = np.asarray(im).astype(np.float32)
    x = np.tile(x[..., None], (1, 1, 3)) if x.ndim == 2 else x
    x = x / 255.0
    return ((x - np.array(clip.CLIP_MEAN)) / np.array(clip.CLIP_STD)).transpose(2, 0, 1)


def test_preprocessing_is_cmmds():
    from ganbench.metrics.networks.preprocess import normalise, pil_resize_rgb

    g = np.random.default_rng(0)
    x = torch.from_numpy(g.integers(0, 256, (2, 1, 30, 28), dtype=np.uint8))  # not square: cropped first
    ours = normalise(pil_resize_rgb(clip.center_square(x), clip.SIZE), clip.CLIP_MEAN, clip.CLIP_STD)
    want = torch.from_numpy(np.stack([cmmd_preprocess(a[0].numpy()) for a in x])).float()
    assert torch.allclose(ours, want, atol=1e-5)


def test_a_checkpoint_builds_the_image_tower_and_embeddings_are_unit_norm(tmp_path):
    visual = clip.visual_l14_336()
    state = {f"visual.{k}" if not k.startswith("visual.") else k: v for k, v in visual.state_dict().items()}
    state["text_projection"] = torch.zeros(768, 768)  # what build_model reads the embedding width from
    torch.save(state, tmp_path / "ViT-L-14-336px.pt")
    net = clip.load(NetOptions(torch.device("cpu"), files={"clip": str(tmp_path / "ViT-L-14-336px.pt")}))
    x = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (2, 1, 28, 28), dtype=np.uint8))
    got = net(x, {"clip"})["clip"]
    assert got.shape == (2, 768) and torch.allclose(got.norm(dim=1), torch.ones(2))
    from ganbench.metrics.networks.preprocess import normalise, pil_resize_rgb
    with torch.no_grad():
        raw = visual.eval().visual(normalise(pil_resize_rgb(x, 336), clip.CLIP_MEAN, clip.CLIP_STD))
    assert torch.allclose(got, raw / raw.norm(dim=1, keepdim=True), atol=1e-4)


def test_missing_weights_say_in_one_line_how_to_supply_them(monkeypatch):
    monkeypatch.setattr(clip, "hub_file", lambda url, name=None: None)
    monkeypatch.delenv("GANBENCH_WEIGHTS_CLIP", raising=False)
    with pytest.raises(MissingAsset) as e:
        clip.load(NetOptions(torch.device("cpu")))
    assert "--weights clip=PATH" in str(e.value) and "\n" not in str(e.value)
