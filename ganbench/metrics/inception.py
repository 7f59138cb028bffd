"""The TF-ported Inception-v3 (torch-fidelity's network), made fast without changing its numbers.

Speed comes from folding every batch norm into its convolution, channels-last tensors, inference
mode and, on a CPU, micro-batches of ``CPU_MICRO_BATCH`` images whatever batch the caller hands in;
pool3 (2048-d) features and the classifier logits come out of one pass.
Resizing to 299x299 is a named mode, recorded with every result:
``tf1`` is torch-fidelity's TF1-compatible bilinear, ``clean`` is clean-fid's PIL bicubic.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Callable

import numpy as np
import torch
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..errors import BadInput
from .weights import InceptionWeights

#: Bumped whenever a change here could change a feature; part of every reference-cache key.
EXTRACTOR_VERSION = "ganbench-inception-1"
SIZE = 299
#: On a CPU the net takes the images this many at a time: their activations stay in cache. Measured by
#: scripts/bench_feature_batch.py on a quiet 2-core Xeon against the protocol's batch of 32: 1.05x on one thread,
#: 1.09x on two, about 1.1x on one thread beside a training job; the features equal batch 32's bit for bit there
#: (batch 8 would not: oneDNN picks another kernel below 16).
CPU_MICRO_BATCH = 16
#: torch-fidelity's block order from the stem to pool3.
BLOCKS = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3",
          "MaxPool_2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d",
          "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c", "AvgPool")


def resize_tf1(x: torch.Tensor) -> torch.Tensor:
    """uint8/float ``(N, 3, H, W)`` in [0, 255] -> float32 ``(N, 3, 299, 299)``, TF1 bilinear (torch-fidelity's)."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    return interpolate_bilinear_2d_like_tensorflow1x(x.float(), size=(SIZE, SIZE), align_corners=False)


def resize_clean(x: torch.Tensor) -> torch.Tensor:
    """clean-fid's resize: each channel as a float PIL image, bicubic to 299x299, clipped to [0, 255]."""
    from PIL import Image

    arr = x.detach().to("cpu", torch.float32).numpy()
    out = np.empty((arr.shape[0], arr.shape[1], SIZE, SIZE), dtype=np.float32)
    for i in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            img = Image.fromarray(arr[i, c], mode="F").resize((SIZE, SIZE), resample=Image.BICUBIC)
            out[i, c] = np.asarray(img).clip(0, 255)
    return torch.from_numpy(out).to(x.device)


RESIZE_MODES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {"tf1": resize_tf1, "clean": resize_clean}


def get_resize(mode: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if mode not in RESIZE_MODES:
        raise BadInput(f"unknown resize mode {mode!r}; known modes: {', '.join(RESIZE_MODES)}")
    return RESIZE_MODES[mode]


def _fold_batch_norms(module: torch.nn.Module) -> None:
    """Replace each BasicConv2d's conv+bn by one biased conv (exact up to float rounding)."""
    for child in module.children():
        if hasattr(child, "conv") and isinstance(getattr(child, "bn", None), torch.nn.BatchNorm2d):
            child.conv = fuse_conv_bn_eval(child.conv, child.bn)
            child.bn = torch.nn.Identity()
        else:
            _fold_batch_norms(child)


class Inception(torch.nn.Module):
    """pool3 features and logits of uint8 images, in one pass. ``forward`` returns ``(N, 2048), (N, 1008) | None``.

    ``logits`` are torch-fidelity's ``logits_unbiased`` (no fc bias), the ones its Inception Score uses.
    """

    def __init__(self, weights: InceptionWeights, resize_mode: str = "tf1", fold: bool = True):
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        buf = io.BytesIO()
        torch.save(weights.state_dict, buf)
        buf.seek(0)  # torch-fidelity's constructor torch.load()s this like a path
        self.net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=buf)
        if fold:
            _fold_batch_norms(self.net)
        self.net.eval().requires_grad_(False)
        self.has_head = weights.has_head
        self.weights = dataclasses.replace(weights, state_dict={})  # where they came from, without the tensors
        self.resize_mode = resize_mode
        self.resize = get_resize(resize_mode)

    def forward(self, images: torch.Tensor, logits: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``images``: uint8 ``(N, 1 or 3, H, W)``; grayscale is tiled to RGB after resizing (same values, 3x less work)."""
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise BadInput(f"Inception takes images (N, 1 or 3, H, W), got shape {tuple(images.shape)}")
        m = CPU_MICRO_BATCH
        if images.device.type == "cpu" and len(images) > m:
            parts = [self._one_pass(images[i:i + m], logits) for i in range(0, len(images), m)]
            return (torch.cat([p for p, _ in parts]),
                    None if parts[0][1] is None else torch.cat([g for _, g in parts]))
        return self._one_pass(images, logits)

    def _one_pass(self, images: torch.Tensor, logits: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        x = self.resize(images)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = ((x - 128) / 128).contiguous(memory_format=torch.channels_last)
        for name in BLOCKS:
            x = getattr(self.net, name)(x)
        pool3 = torch.flatten(x, 1)
        if not (logits and self.has_head):
            return pool3, None
        return pool3, pool3 @ self.net.fc.weight.T


def build_inception(weights: InceptionWeights, resize_mode: str = "tf1",
                    device: torch.device | str = "cpu") -> Inception:
    """The fast extractor on ``device``, channels-last."""
    return Inception(weights, resize_mode).to(device).to(memory_format=torch.channels_last)
