"""The package as a user installs it: a wheel built from pyproject.toml, installed (not editable) into a fresh
virtual environment, lists every baseline and finds the shipped leaderboards, from outside the checkout.

Fast and offline: the wheel is built without build isolation, installed with --no-deps, and the new environment
reads torch and the other dependencies from this one's site-packages (a .pth line), never from a registry.
"""

import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _source_copy(dest: Path) -> Path:
    """What the build reads, copied (so the build leaves nothing in the checkout): pyproject, README, the package
    (its data links kept as links), baselines and the leaderboards' CSVs."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "ganbench", dest / "ganbench", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "baselines", dest / "baselines")
    (dest / "leaderboards").mkdir()
    for csv in (ROOT / "leaderboards").glob("*.csv"):
        shutil.copy2(csv, dest / "leaderboards" / csv.name)
    return dest


@pytest.mark.slow
def test_wheel_installs_with_its_baselines_and_leaderboards(tmp_path):
    pytest.importorskip("setuptools", reason="the wheel is built without build isolation: pip install setuptools")
    src = _source_copy(tmp_path / "src")
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(src)],
                   check=True, cwd=tmp_path, capture_output=True)
    (wheel,) = dist.glob("ganbench-*.whl")
    import zipfile
    names = zipfile.ZipFile(wheel).namelist()
    baselines = sorted(p.name for p in (ROOT / "baselines").glob("*.yaml"))
    assert sorted(Path(n).name for n in names if n.startswith("ganbench/baselines/")) == baselines
    assert "ganbench/leaderboards/fashion-mnist.csv" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(py), "install", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = [sysconfig.get_path("purelib"), *site.getsitepackages()]
    (Path(purelib) / "_ganbench_test_deps.pth").write_text("\n".join(dict.fromkeys(deps)) + "\n")

    run = dict(cwd=tmp_path, capture_output=True, text=True, timeout=300)
    check = ("import ganbench, pathlib; from ganbench.zoo.baselines import list_baselines; "
             "from ganbench.bench.compare import leaderboard_path; "
             "print(ganbench.__file__); print(len(list_baselines())); print(leaderboard_path('fashion-mnist').is_file())")
    out = subprocess.run([str(py), "-c", check], **run)
    assert out.returncode == 0, out.stderr
    where, count, board = out.stdout.split()
    assert where.startswith(str(venv)) and int(count) == len(baselines) and board == "True"
    models = subprocess.run([str(venv / "bin" / "ganbench"), "models"], **run)
    assert models.returncode == 0, models.stderr
    assert sorted(line.split()[0] for line in models.stdout.splitlines()) == sorted(p[:-5] for p in baselines)


def test_every_public_name_resolves_lazily_to_its_module():
    code = ("import sys, ganbench; assert 'torch' not in sys.modules, 'importing ganbench loaded torch'; "
            "names = [n for n in ganbench.__all__ if n != '__version__']; "
            "assert sorted(names) == sorted(ganbench._PUBLIC), names; "
            "print(' '.join(f'{n}={getattr(ganbench, n).__module__}' for n in names))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    modules = dict(pair.split("=") for pair in out)
    assert modules["evaluate"] == modules["EvaluateOptions"] == "ganbench.metrics.evaluate"
    assert modules["compare"] == modules["CompareOptions"] == "ganbench.bench.compare"
    assert modules["run"] == modules["RunOptions"] == "ganbench.bench.runner"
    assert modules["search"] == modules["SearchOptions"] == "ganbench.bench.search.driver"
    assert modules["train"] == modules["TrainOptions"] == "ganbench.train.trainer"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        __import__("ganbench").nope
