"""One encoding for every image of a study, real or generated, so that nothing but the pixels tells them apart.

Uncompressed PNG (zlib level 0, stored blocks): the file's length depends on the image's shape only, never
on its content, so there is no file-size tell; no ancillary chunk (text, time, gamma, physical size) is
written, so the files differ in their pixel bytes alone. Real and generated images of a study have one shape
(``pool`` checks), hence one length, one content type and the same headers.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image


def encode_png(image: torch.Tensor | np.ndarray) -> bytes:
    """A uint8 image ``(C, H, W)`` with C = 1 (grayscale) or 3 (RGB) as uncompressed PNG bytes, no metadata."""
    a = image.cpu().numpy() if torch.is_tensor(image) else np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[0] not in (1, 3):
        raise ValueError(f"expected a uint8 image (C, H, W) with 1 or 3 channels, got {a.dtype} {a.shape}")
    pil = Image.fromarray(a[0], "L") if a.shape[0] == 1 else Image.fromarray(np.ascontiguousarray(a.transpose(1, 2, 0)),
                                                                             "RGB")
    buf = io.BytesIO()
    pil.save(buf, format="PNG", compress_level=0, optimize=False)
    return buf.getvalue()


def png_length(shape: tuple[int, int, int]) -> int:
    """The length of every image of this ``(C, H, W)`` shape under ``encode_png``."""
    return len(encode_png(np.zeros(shape, dtype=np.uint8)))
