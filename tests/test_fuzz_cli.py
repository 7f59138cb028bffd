"""scripts/fuzz_cli.py in the suite (so in CI): every bad invocation of every command and of the API ends with
exit 2 (or ``BadInput``), one line, no traceback, and nothing left behind. In this process, so it takes seconds."""

from tests.helpers import load_script


def _fuzz():
    return load_script("fuzz_cli")


def test_every_bad_invocation_is_one_line_exit_2_and_leaves_nothing(capsys):
    fuzz = _fuzz()
    commands = {c.call[0] for c in fuzz.CASES if not callable(c.call)}
    assert len(fuzz.CASES) >= 40 and sum(callable(c.call) for c in fuzz.CASES) >= 10
    assert {"datasets", "models", "train", "toy", "metrics", "run", "compare", "report", "results", "cache"} <= commands
    failed = fuzz.run_cases()
    assert not failed, "\n".join(f"{c.name}: {'; '.join(p)}" for c, p in failed)


def test_a_few_cases_as_real_processes():
    fuzz = _fuzz()
    picked = [c for c in fuzz.CASES if c.name in ("train --kimg inf", "metrics --range -1,1 as in the README, "
                                                  "0-255 floats", "run --jobs 0")]
    assert len(picked) == 3
    failed = fuzz.run_cases(picked, subprocess_mode=True, limit=120)
    assert not failed, "\n".join(f"{c.name}: {'; '.join(p)}" for c, p in failed)
