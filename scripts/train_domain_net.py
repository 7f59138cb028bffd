"""Train the Fashion-MNIST domain network once (its fixed recipe) and write the weights ganbench ships.

    python scripts/train_domain_net.py --out ganbench/metrics/networks/fmnist_cnn.pt

Prints the test accuracy and the SHA-256 of the file; ``ganbench/metrics/networks/fmnist.py`` pins that hash.
"""

from __future__ import annotations

import argparse
import hashlib
import time

import torch
import torch.nn.functional as F

from ganbench.data import get_dataset
from ganbench.metrics.networks.fmnist_arch import RECIPE, FMNISTNet


def augment(x: torch.Tensor, g: torch.Generator, shift: int) -> torch.Tensor:
    """Random shifts of up to ``shift`` pixels (zero fill) and horizontal flips, per image."""
    n = x.shape[0]
    padded = F.pad(x, (shift, shift, shift, shift))
    dx, dy = (torch.randint(0, 2 * shift + 1, (n,), generator=g) for _ in range(2))
    out = torch.stack([padded[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28] for i in range(n)])
    flip = torch.rand(n, generator=g) < 0.5
    out[flip] = out[flip].flip(-1)
    return out


def accuracy(net: FMNISTNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    net.eval()
    with torch.no_grad():
        pred = torch.cat([net(images[i:i + 1000]).argmax(1) for i in range(0, len(images), 1000)])
    return float((pred == labels).float().mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(RECIPE.seed)
    train, test = get_dataset("fashion-mnist", "train"), get_dataset("fashion-mnist", "test")
    x, y = train.uint8(slice(None)), train.labels(slice(None))
    xt, yt = test.uint8(slice(None)), test.labels(slice(None))
    net = FMNISTNet()
    opt = torch.optim.Adam(net.parameters(), lr=RECIPE.lr)
    g = torch.Generator().manual_seed(RECIPE.seed)
    t0 = time.time()
    for epoch in range(RECIPE.epochs):
        if epoch in RECIPE.lr_drop_epochs:
            for group in opt.param_groups:
                group["lr"] *= 0.1
        net.train()
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - RECIPE.batch_size + 1, RECIPE.batch_size):
            idx = order[i:i + RECIPE.batch_size]
            loss = F.cross_entropy(net(augment(x[idx], g, RECIPE.shift)), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        print(f"epoch {epoch + 1}: test accuracy {accuracy(net, xt, yt):.4f} ({time.time() - t0:.0f} s)", flush=True)
    net.eval()
    torch.save({k: v.clone() for k, v in net.state_dict().items()}, args.out)
    digest = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    print(f"test accuracy {accuracy(net, xt, yt):.4f}; {args.out} sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
