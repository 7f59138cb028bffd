"""Job folders: named by view, and a folder written before views were in the name is resumed only on its view."""

import json
from pathlib import Path

from ganbench.bench.jobs import job_dir
from ganbench.config import get_budget
from ganbench.zoo.baselines import load_baseline


def _legacy(tmp_path: Path, spec, budget, training_transform: str) -> Path:
    """A job folder as versions before views wrote it: no view in its name, the view in its status.json."""
    name = f"fashion-mnist-{budget.kimg:g}kimg-seed0"
    folder = tmp_path / "jobs" / f"{spec.name}-{spec.hash()[:8]}" / name
    folder.mkdir(parents=True)
    prov = {"dataset": {"transform": "none"}, "training_view": {"transform": training_transform}}
    (folder / "status.json").write_text(json.dumps({"status": "running", "provenance": prov}))
    return folder


def test_views_name_their_folders():
    spec = load_baseline("lucic-ns")
    native = job_dir("r", spec, 0, "fashion-mnist", get_budget("lucic2018"))
    padded = job_dir("r", spec, 0, "fashion-mnist", get_budget("quick32"))
    assert Path(native).name == "fashion-mnist-native-1000kimg-seed0"
    assert Path(padded).name.startswith("fashion-mnist-") and "native" not in padded


def test_an_older_folder_of_the_same_view_is_resumed(tmp_path):
    spec, budget = load_baseline("lucic-ns"), get_budget("lucic2018")
    legacy = _legacy(tmp_path, spec, budget, training_transform="none")
    assert job_dir(tmp_path, spec, 0, "fashion-mnist", budget) == str(legacy)


def test_an_older_folder_of_another_view_is_not(tmp_path):
    spec, budget = load_baseline("lucic-ns"), get_budget("lucic2018")
    legacy = _legacy(tmp_path, spec, budget, training_transform="pad32")
    got = job_dir(tmp_path, spec, 0, "fashion-mnist", budget)
    assert got != str(legacy) and Path(got).name == "fashion-mnist-native-1000kimg-seed0"


def test_an_older_folder_without_a_readable_status_is_not(tmp_path):
    spec, budget = load_baseline("lucic-ns"), get_budget("lucic2018")
    legacy = _legacy(tmp_path, spec, budget, training_transform="none")
    (legacy / "status.json").write_text("{not json")
    assert job_dir(tmp_path, spec, 0, "fashion-mnist", budget) != str(legacy)


def test_the_named_folder_wins_once_it_exists(tmp_path):
    spec, budget = load_baseline("lucic-ns"), get_budget("lucic2018")
    _legacy(tmp_path, spec, budget, training_transform="none")
    named = Path(job_dir(tmp_path, spec, 0, "fashion-mnist", budget)).parent / "fashion-mnist-native-1000kimg-seed0"
    named.mkdir()
    assert job_dir(tmp_path, spec, 0, "fashion-mnist", budget) == str(named)
