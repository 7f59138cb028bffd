"""The nearest-training-neighbour gallery: a generator that hands back training images finds them at distance 0."""

import io

import torch
from PIL import Image

from ganbench.bench.neighbours import gallery_png, nearest_training
from ganbench.data import TensorImageSet


def test_copies_are_found_at_distance_zero_and_others_at_their_nearest():
    g = torch.Generator().manual_seed(0)
    train = TensorImageSet(torch.randint(0, 256, (50, 1, 28, 28), generator=g, dtype=torch.uint8), "t", "train", "x")
    copies = train.uint8([3, 41, 17])
    idx, d = nearest_training(copies, train, chunk=16)  # across chunk boundaries
    assert idx.tolist() == [3, 41, 17] and d.tolist() == [0.0, 0.0, 0.0]
    noisy = (copies.int() + 1).clamp(0, 255).to(torch.uint8)
    full = torch.cdist(noisy.float().flatten(1), train.uint8(slice(None)).float().flatten(1))
    idx2, d2 = nearest_training(noisy, train, chunk=7)
    assert idx2.tolist() == full.argmin(1).tolist() and torch.allclose(d2, full.min(1).values)
    png = Image.open(io.BytesIO(gallery_png(copies, train)))
    assert png.size[0] > png.size[1] > 0  # one row of samples over one row of their neighbours
