"""DINOv2 ViT-L/14 on its real code path at random initialisation: dgm-eval's preprocessing (torchvision's Resize on
PIL images, ToTensor, Normalize), the official position-embedding interpolation, the official checkpoint's keys,
the CLS token after the final norm, and the one-line message without weights."""

import math

import numpy as np
import pytest
import torch
from PIL import Image

from ganbench.errors import MissingAsset
from ganbench.metrics.networks import dinov2
from ganbench.metrics.networks.base import NetOptions
from ganbench.metrics.networks.preprocess import normalise, pil_resize_rgb

pytest.importorskip("timm")


def images(n=2, c=1, size=28, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, (n, c, size, size), dtype=np.uint8))


def test_preprocessing_is_dgm_evals():
    """dgm_eval/models/dinov2.py ``DINOv2Encoder.transform`` on the PIL image the dataloader opens as RGB."""
    import torchvision.transforms as TF

    x = images()
    ref = torch.stack([TF.Normalize(dinov2.IMAGENET_MEAN, dinov2.IMAGENET_STD)(TF.Compose([
        TF.Resize((224, 224), TF.InterpolationMode.BICUBIC), TF.ToTensor()])(
        Image.fromarray(a[0].numpy()).convert("RGB"))) for a in x])
    ours = normalise(pil_resize_rgb(x, 224), dinov2.IMAGENET_MEAN, dinov2.IMAGENET_STD)
    assert torch.allclose(ours, ref, atol=1e-6)


def test_position_embedding_interpolated_as_the_official_model_does():
    """dinov2/models/vision_transformer.py ``interpolate_pos_encoding`` at 224 px: 37x37 -> 16x16, bicubic, scale
    factor (16 + 0.1) / 37, the class token untouched."""
    pe = torch.randn(1, 1 + 37 * 37, 8)
    out = dinov2.interpolate_pos_embed(pe)
    assert out.shape == (1, 1 + 16 * 16, 8) and torch.equal(out[:, 0], pe[:, 0])
    grid = pe[:, 1:].reshape(1, 37, 37, 8).permute(0, 3, 1, 2)
    want = torch.nn.functional.interpolate(grid, scale_factor=(16.1 / math.sqrt(1369),) * 2, mode="bicubic")
    assert torch.allclose(out[:, 1:], want.permute(0, 2, 3, 1).reshape(1, -1, 8))
    assert dinov2.interpolate_pos_embed(out) is out  # already at 224 px


def test_an_official_checkpoint_loads_and_the_feature_is_the_normed_cls_token(tmp_path):
    model = dinov2.vit_l14()
    official = {k: v.clone() for k, v in model.state_dict().items()}
    official["pos_embed"] = torch.randn(1, 1 + 37 * 37, 1024) * 0.02  # the 518 px grid of the release
    official["mask_token"] = torch.zeros(1, 1024)  # in the release, unused at inference
    torch.save(official, tmp_path / "dinov2_vitl14_pretrain.pth")
    net = dinov2.load(NetOptions(torch.device("cpu"), files={"dinov2": str(tmp_path / "dinov2_vitl14_pretrain.pth")}))
    m = net.module
    assert torch.allclose(m.pos_embed, dinov2.interpolate_pos_embed(official["pos_embed"]))
    x = images()
    got = net(x, {"dinov2"})["dinov2"]
    assert got.shape == (2, 1024)
    with torch.no_grad():  # DinoVisionTransformer.forward: norm(blocks(cls + patches + pos))[:, 0]
        t = normalise(pil_resize_rgb(x, 224), dinov2.IMAGENET_MEAN, dinov2.IMAGENET_STD)
        tokens = torch.cat([m.cls_token.expand(2, -1, -1), m.patch_embed(t)], 1) + m.pos_embed
        for block in m.blocks:
            tokens = block(tokens)
        want = m.norm(tokens)[:, 0]
    assert torch.allclose(got, want, atol=1e-4)
    assert net.signature()["weights_sha256"] and len(net.signature()["weights_sha256"]) == 64


def test_missing_weights_say_in_one_line_how_to_supply_them(monkeypatch):
    monkeypatch.setattr(dinov2, "hub_file", lambda url, name=None: None)
    monkeypatch.delenv("GANBENCH_WEIGHTS_DINOV2", raising=False)
    with pytest.raises(MissingAsset) as e:
        dinov2.load(NetOptions(torch.device("cpu")))
    assert "--weights dinov2=PATH" in str(e.value) and dinov2.URL in str(e.value) and "\n" not in str(e.value)
