#!/usr/bin/env python
"""Round trip of an answer in a HYPE∞ study under 20 concurrent evaluators: median and 99th percentile.

A small real run is made in a temporary folder: the ``gan`` baseline (MLP) trained for --kimg on
Fashion-MNIST (its evaluation stubbed out: metrics are not what is measured here). ``ganbench human
serve`` then runs in its own process on 127.0.0.1 and draws the study with the real stages at the paper's
sizes (5,000 study and 500 qualification images per side: the generator's samples, the training images;
its preparation lines are echoed with their timings). First one evaluator alone, then --evaluators at
once, each in its own thread over one keep-alive HTTP connection, take a session and answer the
qualification (right, to pass it) and every study image with no pause between answers (the worst case for
the server; people take seconds). Every answer is timed from sending the request to reading the whole
response; the store is checked afterwards for exactly the answers sent. Prints one line per figure, then
the ratio against the evaluator alone, measured in the same run.

    .venv/bin/python scripts/bench_human.py                      # 20 evaluators x (100 qualification + 100 images)
    .venv/bin/python scripts/bench_human.py --evaluators 50 --images 40 --tutorial 10
    .venv/bin/python scripts/bench_human.py --variant time       # HYPE_time: timed answers, the staircase per answer
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


class Evaluator:
    """One simulated evaluator on a keep-alive connection; ``latencies`` in seconds, one per answer."""

    def __init__(self, port: int, seed: int):
        self.con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.rng = np.random.default_rng(seed)
        self.latencies: list[float] = []
        self.sent: list[tuple[str, str]] = []

    def call(self, method: str, path: str, obj=None) -> tuple[int, dict]:
        body = None if obj is None else json.dumps(obj).encode()
        self.con.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        r = self.con.getresponse()
        return r.status, json.loads(r.read())

    def take_study(self, truth_of) -> str:
        status, state = self.call("POST", "/api/session", {})
        assert status == 201, state
        while state["next"]:
            image = state["next"]["id"]
            # the tutorial and the qualification answered right (to pass), the study at random
            answer = truth_of(image) if state["phase"] != "study" else str(self.rng.choice(["real", "fake"]))
            body = {"evaluator": state["evaluator"], "image": image, "answer": answer, "time_ms": 1500}
            if "exposure_ms" in state["next"]:  # HYPE_time: the exposure shown as asked, on a 60 Hz display
                body.update(exposure_ms=state["next"]["exposure_ms"], frame_ms=16.667)
            t0 = time.perf_counter()
            status, state = self.call("POST", "/api/answer", body)
            self.latencies.append(time.perf_counter() - t0)
            assert status == 200, state
            self.sent.append((image, answer))
        assert state["phase"] == "done", state["phase"]
        self.con.close()
        return state["evaluator"]


def make_run(root: Path, kimg: float, samples: int) -> tuple[Path, Path]:
    from ganbench.bench.runner import Backend, RunOptions, run
    from ganbench.config import Budget

    def no_metrics(samples, reference, **kw):  # what is measured is the study, not FID
        return {"metrics": {}, "unavailable": {}, "provenance": {}}

    budget = Budget("bench-human", kimg=kimg, num_samples=samples, ref_samples=samples, real_row=False)
    run(models=["gan"], budget=budget, metrics=("fid",), backend=Backend(evaluate=no_metrics),
        options=RunOptions(out=root / "run", store=root / "results.sqlite", progress=False, device="cpu"))
    return root / "run", root / "results.sqlite"


def serve(run_dir: Path, images: int, tutorial: int, qualification: int,
          variant: str) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ganbench.cli", "human", "serve", str(run_dir), "--port", "0",
                             "--images", str(images), "--tutorial", str(tutorial), "--qualification",
                             str(qualification), "--variant", variant, "--device", "cpu"],
                            stderr=subprocess.PIPE, text=True, env=env)
    while True:
        line = proc.stderr.readline()
        if not line:
            raise SystemExit(f"bench_human: the server stopped: {proc.wait()}")
        print(f"  [{time.perf_counter() - t0:6.1f} s] {line.rstrip()}")  # the preparation's progress, timed
        m = re.search(r"study at http://127\.0\.0\.1:(\d+)/", line)
        if m:
            return proc, int(m.group(1))


def figures(label: str, lat: list[float]) -> np.ndarray:
    ms = np.asarray(lat) * 1000
    print(f"answer round trip, {label}: median {np.median(ms):.1f} ms")
    print(f"answer round trip, {label}: p90 {np.percentile(ms, 90):.1f} ms")
    print(f"answer round trip, {label}: p99 {np.percentile(ms, 99):.1f} ms")
    print(f"answer round trip, {label}: max {ms.max():.1f} ms ({ms.size} answers)")
    return ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evaluators", type=int, default=20)
    ap.add_argument("--images", type=int, default=100, help="study images per evaluator (default 100, HYPE∞'s)")
    ap.add_argument("--tutorial", type=int, default=0, help="tutorial images (default 0, the paper's)")
    ap.add_argument("--qualification", type=int, default=100, help="qualification images (default 100, the paper's)")
    ap.add_argument("--variant", choices=("infinity", "time"), default="infinity",
                    help="HYPE∞ or HYPE_time (each study answer carries its exposure; the staircase runs per answer)")
    ap.add_argument("--kimg", type=float, default=0.256, help="training of the run's gan (default 0.256)")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ganbench-bench-human-"))
    os.environ.setdefault("GANBENCH_CACHE", str(root / "cache"))
    run_dir, store_path = make_run(root, args.kimg, samples=600)
    proc, port = serve(run_dir, args.images, args.tutorial, args.qualification, args.variant)
    print(f"store after preparing the pools: {store_path.stat().st_size / 1e6:.1f} MB")
    try:
        import sqlite3
        con = sqlite3.connect(store_path)
        truth = dict(con.execute("SELECT image_id, truth FROM human_images"))
        con.close()
        alone = Evaluator(port, seed=10_000)
        alone.take_study(truth.get)
        crowd = [Evaluator(port, seed=k) for k in range(args.evaluators)]
        barrier = threading.Barrier(args.evaluators)
        tokens: dict[int, str] = {}

        def take(k: int) -> None:
            barrier.wait()
            tokens[k] = crowd[k].take_study(truth.get)

        threads = [threading.Thread(target=take, args=(k,)) for k in range(args.evaluators)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    con = sqlite3.connect(store_path)
    stored = {(e, i, a) for e, i, a in con.execute("SELECT evaluator, image_id, answer FROM human_answers")}
    n_rows = con.execute("SELECT count(*) FROM human_answers").fetchone()[0]
    con.close()
    sent = {(tokens[k], i, a) for k, ev in enumerate(crowd) for i, a in ev.sent}
    per = args.images + args.tutorial + args.qualification
    n = args.evaluators * per
    print(f"bench_human: {args.evaluators} concurrent evaluators x {per} answers = {n} answers in {wall:.1f} s "
          f"({n / wall:.0f} answers/s), server on {os.cpu_count()} CPU core(s)")
    print(f"stored: {n_rows - per} answers of the crowd ({'all' if sent <= stored else 'NOT all'} of those sent, "
          f"{n_rows - len(stored)} duplicated)")
    crowd_ms = figures(f"{args.evaluators} concurrent evaluators", [x for ev in crowd for x in ev.latencies])
    alone_ms = figures("1 evaluator alone", alone.latencies)
    print(f"ratio {args.evaluators} concurrent / alone: median {np.median(crowd_ms) / np.median(alone_ms):.1f}x, "
          f"p99 {np.percentile(crowd_ms, 99) / np.percentile(alone_ms, 99):.1f}x")
    return 0 if sent <= stored and n_rows == len(stored) == n + per else 1


if __name__ == "__main__":
    sys.exit(main())
