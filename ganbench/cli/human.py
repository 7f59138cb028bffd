"""`ganbench human serve|score|export`: a HYPE∞ or HYPE_time real-vs-fake study of a run's models, in the browser."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ..errors import BadInput
from .common import command, print_json


def _csv_list(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(",") if t.strip()]


_NUMBERS = ("images", "qualification", "tutorial", "pool", "qualification_pool", "replicates", "seed")


def _protocol(args):
    """The protocol: the paper's defaults changed by the options given, every value checked before any work."""
    from ..human.protocol import DEFAULT_HUMAN, HUMAN_TUTORIAL_POOL, check_human
    changes = {k: getattr(args, k) for k in (*_NUMBERS, "reals", "bootstrap", "variant", "start_ms", "step_ms",
                                             "fixation_ms", "mask_ms") if getattr(args, k, None) is not None}
    for k in _NUMBERS:
        if k in changes and changes[k] < 0:
            raise BadInput(f"--{k.replace('_', '-')} must be >= 0, got {changes[k]}")
    if changes.get("tutorial"):  # a tutorial needs tutorial images to draw from
        changes["tutorial_pool"] = max(HUMAN_TUTORIAL_POOL, changes["tutorial"] // 2)
    return check_human(dataclasses.replace(DEFAULT_HUMAN, **changes))


@command
def add_human(sub) -> None:
    p = sub.add_parser("human", help="human evaluation: a HYPE∞ or HYPE_time real-vs-fake study in the browser "
                                     "(serve, score, export)",
                       description="HYPE∞ (Zhou et al. 2019): people judge real and generated images one at a time "
                                   "with no time limit; the score is the share they get wrong (50% = "
                                   "indistinguishable), with a 95% bootstrap CI over evaluators (the paper's). "
                                   "HYPE_time (--variant time): each image shown briefly, for an exposure set by an "
                                   "adaptive staircase; the score is the exposure (ms) people need.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    _add_serve(actions)
    _add_score(actions)
    _add_export(actions)
    p.set_defaults(func=lambda args: p.print_help() or 2)




def _add_serve(actions) -> None:
    from ..human.protocol import DEFAULT_HUMAN as H, HUMAN_REALS, HUMAN_VARIANTS
    from ..human.server import DEFAULT_HOST, DEFAULT_PORT
    from ..metrics.hype import guesser_pass_probability

    chance = guesser_pass_probability(H.qualification, H.pass_rate)
    s = actions.add_parser("serve", help="serve the study of a run's models on a local web server",
                           description="Serve a study as the paper runs it: a qualification without feedback, then "
                                       "shuffled real and generated images (the run's samples and training images), "
                                       "evaluators told that half are real. Every answer is stored at once in the "
                                       "results store; an evaluator can close the page and resume.")
    s.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of `ganbench run`")
    s.add_argument("--models", help="comma list of the run's models to judge (default: all); each evaluator judges one")
    s.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this machine "
                                                        "only; 0.0.0.0 exposes the study to the network)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free one)")
    s.add_argument("--images", type=int, help=f"study images per evaluator, half real (default {H.images})")
    s.add_argument("--qualification", type=int,
                   help=f"qualification images before the study, half real, fakes from every model, no feedback; "
                        f"{100 * H.pass_rate:.0f}%% of reals and of fakes right to go on (default {H.qualification}, "
                        f"the paper's: a random guesser passes 1 time in {1 / chance:,.0f}; 0: none)")
    s.add_argument("--tutorial", type=int, help=f"tutorial images with feedback first, half real (default "
                                                f"{H.tutorial}: the paper has none); without a qualification it gates")
    s.add_argument("--pool", type=int, help=f"study images per model, and real ones, drawn for a new study "
                                            f"(default {H.pool}, the paper's)")
    s.add_argument("--qualification-pool", type=int, help=f"qualification images per model, and real ones, drawn "
                                                          f"for a new study (default {H.qualification_pool})")
    s.add_argument("--reals", choices=HUMAN_REALS, help=f"real images from the training split (the paper's) or the "
                                                        f"run's reference images (default {H.reals})")
    s.add_argument("--seed", type=int, help=f"seed of the pools and of every evaluator's draw (default {H.seed})")
    s.add_argument("--variant", choices=HUMAN_VARIANTS,
                   help="infinity: HYPE∞, no time limit; time: HYPE_time, each study image shown for an exposure on "
                        f"an adaptive staircase (100-1000 ms), then masked (default {H.variant})")
    s.add_argument("--start-ms", type=float, help=f"HYPE_time: the staircase's first exposure (default {H.start_ms:g})")
    s.add_argument("--step-ms", type=float, help=f"HYPE_time: one move of the staircase: down after 3 right in a row, "
                                                 f"up after a wrong answer (default {H.step_ms:g})")
    s.add_argument("--fixation-ms", type=float, help=f"HYPE_time: the cross before each image (default "
                                                     f"{H.fixation_ms:g})")
    s.add_argument("--mask-ms", type=float, help=f"HYPE_time: the noise mask after each image (default {H.mask_ms:g})")
    s.add_argument("--store", help="results database (default: the one the run used)")
    s.add_argument("--device", help="where generators draw the samples (default: cuda when present)")
    s.add_argument("--data-root", help="folder holding datasets (default: $GANBENCH_DATA, then the usual places)")
    s.add_argument("--verbose", action="store_true", help="log every request")
    s.set_defaults(func=cmd_human_serve)



def _add_score(actions) -> None:
    from ..human.protocol import DEFAULT_HUMAN as H
    from ..metrics.hype import BOOTSTRAPS

    c = actions.add_parser("score", help="HYPE∞ (and HYPE_time where its sessions are) per model with its bootstrap "
                                          "CI, written into the tables and report")
    c.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of `ganbench run`")
    c.add_argument("--models", help="comma list of models (default: all of the run)")
    c.add_argument("--bootstrap", choices=BOOTSTRAPS,
                   help="resample evaluators (the paper's) or evaluators and images together (two-way, Owen 2007: a "
                        f"defensible extra for evaluators sharing images, wider) (default {H.bootstrap})")
    c.add_argument("--replicates", type=int, help=f"bootstrap replicates (default {H.replicates})")
    c.add_argument("--seed", type=int, help=f"bootstrap seed (default {H.seed})")
    c.add_argument("--store", help="results database (default: the one the run used)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_human_score)



def _add_export(actions) -> None:
    e = actions.add_parser("export", help="the raw answers as CSV (one line per answer)")
    e.add_argument("run_dir", metavar="RUN_DIR", nargs="?", help="only this run's study (default: every study in "
                                                                   "the store)")
    e.add_argument("--store", help="results database (default: the run's, else runs/results.sqlite)")
    e.add_argument("--out", help="write the CSV here (default: standard output)")
    e.add_argument("--per-image", action="store_true", help="one line per model and study image instead: its "
                                                            "answers and how often it was judged real and fake "
                                                            "(finished evaluators; needs RUN_DIR)")
    e.set_defaults(func=cmd_human_export)


def cmd_human_serve(args) -> int:
    from ..human.pool import open_study, prepare
    from ..human.server import check_address, make_server, serve
    from ..human.study import Study

    protocol = _protocol(args)
    check_address(args.host, args.port)  # before any work: a bad host or a port in use fails here
    if args.device is not None:
        from ..devices import resolve_device
        resolve_device(args.device)  # a bad name or a missing GPU fails here too
    ref = open_study(args.run_dir, _csv_list(args.models) or None, args.store)
    prepare(ref, protocol, device=args.device, data_root=args.data_root)
    study = Study(ref, protocol)
    try:
        serve(make_server(study, args.host, args.port, quiet=not args.verbose))
    finally:
        study.close()
    return 0


def cmd_human_score(args) -> int:
    from ..human.pool import open_study
    from ..human.score import score
    from ..io import check_writable

    protocol = _protocol(args)
    check_writable(args.run_dir, "RUN_DIR", folder=True)  # its tables and report are rewritten
    ref = open_study(args.run_dir, _csv_list(args.models) or None, args.store)
    results = score(ref, protocol)
    if args.json:
        print_json({"study": ref.key, "protocol": dataclasses.asdict(protocol), "models": results})
        return 0
    timed = [r for r in results if r["variant"] == "time"]
    results = [r for r in results if r["variant"] == "infinity" and (r["sessions"] or not timed)]
    _print_infinity(results, protocol, ref.run_dir)
    _print_time(timed, protocol)
    results += timed
    few = [r["model"] for r in results if 0 < r["evaluators"] < protocol.evaluators]
    if few:
        print(f"note: {', '.join(few)} has fewer than the {protocol.evaluators} evaluators per model of the paper, "
              "whose intervals settle near that number")
    if any(r["evaluators"] for r in results):
        print(f"tables: {ref.run_dir}/table.{{md,csv,tex,html}}; report: {ref.run_dir}/report.html")
    return 0


def _print_infinity(results: list[dict], protocol, run_dir) -> None:
    from ..metrics.hype import BOOTSTRAP_LABELS

    if not results:
        return
    pct = lambda v: f"{100 * v:.1f}"  # noqa: E731
    print(f"HYPE∞ (Zhou et al. 2019) of {run_dir}: share of judgements wrong, {protocol.confidence:.0%} "
          f"{BOOTSTRAP_LABELS[protocol.bootstrap]} ({protocol.replicates} replicates)")
    for r in results:
        states = ", ".join(f"{n} {k}" for k, n in sorted(r["sessions"].items())) or "no sessions"
        if not r["evaluators"]:
            print(f"  {r['model']}: no evaluator has finished ({states})")
            continue
        ci = lambda k: f"[{pct(r[k + '_ci'][0])}, {pct(r[k + '_ci'][1])}]"  # noqa: E731
        print(f"  {r['model']}: HYPE∞ {pct(r['hype_inf'])}% {ci('hype_inf')}; fakes judged real "
              f"{pct(r['hype_fakes'])}% {ci('hype_fakes')}; reals judged fake {pct(r['hype_reals'])}% "
              f"{ci('hype_reals')}; {r['evaluators']} evaluators, {r['answers']} answers ({states})")


def _print_time(results: list[dict], protocol) -> None:
    if not results:
        return
    print(f"HYPE_time (Zhou et al. 2019): each evaluator's modal exposure on the staircase, the mean over evaluators, "
          f"{protocol.confidence:.0%} percentile bootstrap over evaluators ({protocol.replicates} replicates)")
    for r in results:
        states = ", ".join(f"{n} {k}" for k, n in sorted(r["sessions"].items()))
        if not r["evaluators"]:
            print(f"  {r['model']}: no evaluator has finished ({states})")
            continue
        print(f"  {r['model']}: HYPE_time {r['hype_time']:.0f} ms [{r['hype_time_lo']:.0f}, {r['hype_time_hi']:.0f}]; "
              f"{r['evaluators']} evaluators, {r['answers']} timed answers, {r['dropped']} dropped (exposure more "
              f"than one frame off target) ({states})")


def cmd_human_export(args) -> int:
    from ..bench.store import Store
    from ..config import DEFAULT_STORE
    from ..human.pool import open_study
    from ..human.score import export_csv, export_images_csv
    from ..io import check_writable, write_text_atomic

    if args.per_image and not args.run_dir:
        raise BadInput("--per-image needs the RUN_DIR of one study")
    if args.out:
        check_writable(args.out, "--out")
    if args.run_dir:
        ref = open_study(args.run_dir, None, args.store)
        text = export_images_csv(ref) if args.per_image else export_csv(ref.store, ref.key)
    else:
        path = Path(args.store or DEFAULT_STORE)
        if not path.is_file():
            raise BadInput(f"no results store at {path}; pass --store PATH or a RUN_DIR")
        text = export_csv(Store(path), None)
    if args.out:
        write_text_atomic(args.out, text)
        print(f"{'images' if args.per_image else 'answers'}: {args.out} ({text.count(chr(10)) - 1} rows)",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

