"""The report's comparison plots, looked at in a real browser: headless Chromium (the system's, driven by selenium)
opens report.html, every plot is there and drawn (a decoded image of non-zero size), and a screenshot is taken.
It skips only where no Chromium and chromedriver are installed (``make test`` installs them as root)."""

import pytest

from ganbench.bench.report import make_report
from ganbench.bench.runner import RunOptions, run
from ganbench.config import Budget
from ganbench.errors import MissingAsset
from ganbench.human.browser import headless_chrome

from ..fakes import Calls, fake_backend

CURVE = Budget("tiny-curve", kimg=0.256, num_samples=16, ref_samples=16, eval_every_kimg=0.128, curve_samples=8)


def test_the_report_shows_its_plots_in_a_browser(tmp_path):
    run(models=["dcgan", "wgan", "lsgan"], seeds=(0, 1), budget=CURVE, metrics=("fid", "kid", "pr", "dc"),
        backend=fake_backend(Calls()), options=RunOptions(out=tmp_path / "run", store=tmp_path / "r.sqlite", progress=False))
    page = make_report(tmp_path / "run")
    html = page.read_text()
    assert "<th>model</th>" in html and "<tr>\n      <th>model</th>\n      <th></th>" not in html  # no stray row
    try:
        driver = headless_chrome(1100, 1400, screenshots=True)
    except MissingAsset as e:
        pytest.skip(str(e))
    try:
        driver.get(page.as_uri())
        drawn = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0 && "
            "i.naturalHeight > 0]);")
        shot = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    alts = {alt: ok for alt, ok in drawn}
    for plot in ("plot: fid by model", "plot: kid_mean by model", "plot: precision by model",
                 "plot: precision against recall", "plot: density against coverage", "FID over training"):
        assert alts.get(plot) is True, (plot, sorted(alts))
    assert all(alts.values())
    (tmp_path / "report.png").write_bytes(shot)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n" and len(shot) > 20_000  # a page with pictures, not a blank one
