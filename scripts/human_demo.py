#!/usr/bin/env python
"""Screenshots of a HYPE∞ study page and of a report with its column, taken with headless Chromium.

    python scripts/human_demo.py runs/fashion-mnist-quick --models dcgan,wgan --evaluators 8 --out docs/

The run folder and its store are copied into a temporary folder first, and only the copy is written: the
study is drawn there (the run's samples, its training images), served on 127.0.0.1, and --evaluators
scripted evaluators take it, answering the tutorial and the qualification right and the study AT RANDOM.
Their numbers mean nothing (about 50% for every model): they stand in for people, to show the mechanism.
Writes ``human-study.png`` (the page during the tutorial, with its feedback) and ``human-report.png`` (the
top of the copy's report.html) into --out, and prints the copy's table.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path


def copy_run(run_dir: Path, root: Path) -> Path:
    """The run folder and its store copied under ``root``; the copy's manifest points at the copies."""
    manifest = json.loads((run_dir / "run.json").read_text())
    dst = root / run_dir.name
    shutil.copytree(run_dir, dst)
    src = sqlite3.connect(f"file:{manifest['store']}?mode=ro", uri=True)
    out = sqlite3.connect(root / "results.sqlite")
    src.backup(out)  # a consistent copy even while another process writes the store
    src.close()
    out.close()
    manifest["store"] = str(root / "results.sqlite")
    for j in manifest["jobs"]:
        j["out_dir"] = str(dst.joinpath(*Path(j["out_dir"]).parts[-3:]))
    (dst / "run.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return dst


def chrome(width: int, height: int):
    from ganbench.errors import MissingAsset
    from ganbench.human.browser import headless_chrome

    try:
        return headless_chrome(width, height, screenshots=True)
    except MissingAsset as e:
        raise SystemExit(f"human_demo: {e}") from None


def save_png(png: bytes, path: Path, colors: int = 96) -> None:
    """A screenshot as a small palette PNG."""
    from PIL import Image
    im = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=colors)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path, optimize=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--models", help="comma list (default: all of the run)")
    ap.add_argument("--evaluators", type=int, default=8)
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--tutorial", type=int, default=10, help="tutorial images (an option; the screenshot shows "
                                                             "its feedback)")
    ap.add_argument("--qualification", type=int, default=100)
    ap.add_argument("--out", type=Path, default=Path("docs"))
    args = ap.parse_args()

    import dataclasses

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from ganbench.human.protocol import DEFAULT_HUMAN, HUMAN_TUTORIAL_POOL
    from ganbench.human.pool import open_study, prepare
    from ganbench.human.score import score
    from ganbench.human.server import make_server
    from ganbench.human.study import Study

    root = Path(tempfile.mkdtemp(prefix="ganbench-human-demo-"))
    run_dir = copy_run(args.run_dir, root)
    protocol = dataclasses.replace(DEFAULT_HUMAN, images=args.images, tutorial=args.tutorial,
                                   tutorial_pool=max(HUMAN_TUTORIAL_POOL, args.tutorial // 2) if args.tutorial else 0,
                                   qualification=args.qualification)
    ref = open_study(run_dir, args.models.split(",") if args.models else None)
    prepare(ref, protocol)
    study = Study(ref, protocol)
    srv = make_server(study, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    rng = random.Random(0)
    for _ in range(args.evaluators):  # scripted: tutorial and qualification right, study at random
        state = study.new_session()
        while state["next"]:
            image = state["next"]["id"]
            answer = study.images[image].truth if state["phase"] != "study" else rng.choice(["real", "fake"])
            state = study.answer(state["evaluator"], image, answer, rng.uniform(800, 4000))
    browser = chrome(640, 900)
    try:
        browser.get(srv.url)
        wait = WebDriverWait(browser, 20)
        wait.until(lambda d: d.find_element(By.ID, "start").is_displayed())
        browser.find_element(By.ID, "start").click()
        for k in range(3):  # three tutorial images answered right; the third's feedback stays on screen
            image = wait.until(lambda d: d.execute_script(
                "const i = document.getElementById('image'); return !document.getElementById('real').disabled "
                "&& i.complete && i.naturalWidth ? i.dataset.id : null;"))
            browser.find_element(By.ID, study.images[image].truth).click()
            wait.until(lambda d: d.find_element(By.ID, "next").is_displayed())
            if k < 2:
                browser.find_element(By.ID, "next").click()
        browser.execute_script("window.scrollTo(0, 0);")
        save_png(browser.get_screenshot_as_png(), args.out / "human-study.png")
    finally:
        browser.quit()
        srv.shutdown()
        study.close()
    results = score(ref, protocol)
    browser = chrome(1150, 1000)
    try:
        browser.get((run_dir / "report.html").resolve().as_uri())
        save_png(browser.get_screenshot_as_png(), args.out / "human-report.png", colors=128)
    finally:
        browser.quit()
    print((run_dir / "table.md").read_text())
    for r in results:
        print(f"{r['model']}: {r['evaluators']} scripted evaluators, HYPE∞ {r.get('hype_inf')}")
    print(f"screenshots: {args.out / 'human-study.png'}, {args.out / 'human-report.png'}; the copy: {run_dir}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
