"""Do two feature spaces rank models alike? Spearman's rho between FD in one space and FID (Inception) over the
models of a run or a search, re-evaluated from their stored checkpoints on the same samples and reference.

    python scripts/feature_space_agreement.py runs/lucic2018-search --space fmnist
    python scripts/feature_space_agreement.py runs/fashion-mnist-quick --space fmnist

For a search folder every trial counts as a model (its checkpoint is at the last rung it reached, the rung score
is its Inception FID there); for a run folder, every ok job. Each is sampled again (its own seed, the protocol's
N) and scored in ``--space`` against the same reference; the Inception FIDs are the stored ones.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scipy.stats import spearmanr

from ganbench.bench.store import Store
from ganbench.config import EvalProtocol, from_dict
from ganbench.data import get_dataset
from ganbench.metrics.evaluate import evaluate
from ganbench.train.checkpoint import load_generator
from ganbench.zoo.sampler import sample_images
from ganbench.zoo.view import stored_view


def rows_of(folder: Path) -> list[dict]:
    search, run = folder / "search.json", folder / "run.json"
    if search.is_file():
        m = json.loads(search.read_text())
        keys = [k for ks in m["trials"].values() for k in ks]
    else:
        m = json.loads(run.read_text())
        keys = [j["key"] for j in m["jobs"]]
    rows = Store(m["store"]).rows(keys)
    return [r for r in rows if r["status"] in ("ok", "pruned") and r.get("fid") is not None]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--space", default="fmnist")
    ap.add_argument("--out", type=Path, help="write the per-model values as JSON here")
    args = ap.parse_args()
    pairs = []
    for row in rows_of(args.folder):
        prov = row["provenance"]
        protocol = from_dict(EvalProtocol, {**prov["protocol"], "features": args.space, "metrics": ["fid"]}, "protocol")
        reference = get_dataset(row["dataset"], protocol.ref_split)
        checkpoint = Path(row["out_dir"]) / "checkpoint.pt"
        if not checkpoint.is_file():
            continue
        G = load_generator(checkpoint, device="cpu")
        view = stored_view(prov, reference)
        images = view.to_native(sample_images(G, protocol.num_samples, seed=row["seed"]))
        fd = evaluate(images, reference, metrics=("fid",), protocol=protocol, progress=False)["metrics"]["fid"]
        pairs.append({"model": row["model"], "fid_inception": row["fid"], f"fd_{args.space}": fd})
        print(f"{row['model']:<24} FID {row['fid']:8.2f}   FD_{args.space} {fd:9.3f}", flush=True)
    rho = spearmanr([p["fid_inception"] for p in pairs], [p[f"fd_{args.space}"] for p in pairs]).statistic
    print(f"Spearman rho (Inception FID vs FD in {args.space}) over {len(pairs)} models: {rho:.3f}")
    if args.out:
        args.out.write_text(json.dumps({"rho": rho, "models": pairs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
