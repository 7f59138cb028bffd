"""SQL lives in the store: no string of a ganbench module holds an SQL statement, but the store's modules'

    bench/store.py        results, metric values, job claims, and every table's schema
    bench/human_store.py  the human study's tables (pools, sessions, answers, scores)

Every other module asks them by name (``human_store.insert_answer(con, ...)``, ``claim_of(con, job_key)``). The
check reads each module's string constants (f-string parts and docstrings included) with ``ast``, so a comment that
names a statement does not count, and an SQL string split over an f-string does.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ganbench"
#: The store layer: the only modules whose strings may be SQL.
STORE = {"bench/store.py", "bench/human_store.py"}
#: A statement keyword as SQL is written here (upper case, a whole word): never in the package's prose.
KEYWORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA)\b")
#: A statement's shape in any case ("insert or replace into", "delete from t"), which prose does not take.
SHAPE = re.compile(r"\binsert\s+(or\s+\w+\s+)?into\s|\bdelete\s+from\s|\bupdate\s+\w+\s+set\s|"
                   r"\bselect\s[^.;]*?\bfrom\s+\w+|\bcreate\s+(unique\s+)?(table|index|view|trigger)\s|"
                   r"\b(alter|drop)\s+table\s", re.IGNORECASE)


def sql_strings(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each string constant of ``source`` that holds an SQL statement."""
    return [(node.lineno, node.value) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and (KEYWORD.search(node.value) or SHAPE.search(node.value))]


def test_no_sql_outside_the_store():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name not in STORE:
            found += [f"ganbench/{name}:{line}: {text[:70]!r}" for line, text in sql_strings(path.read_text())]
    assert not found, ("SQL outside the store's modules (move the query into bench/store.py or bench/human_store.py "
                       "as a named function):\n" + "\n".join(found))


def test_the_store_modules_exist_and_hold_the_sql():
    for name in STORE:
        assert sql_strings((ROOT / name).read_text()), f"{name} holds no SQL: is STORE out of date?"


@pytest.mark.parametrize("source", [
    'con.execute("SELECT png FROM human_images WHERE study = ?", (key,))',
    'sql = f"INSERT OR REPLACE INTO results ({cols}) VALUES ({marks})"',
    'q = ("UPDATE human_sessions SET state = ? "\n     "WHERE evaluator = ?")',
    'con.execute(f"delete from job_claims where owner = {o!r}")',
    'con.execute("select count(*) from human_answers")',
    'def f():\n    """Runs CREATE TABLE IF NOT EXISTS t."""',
])
def test_the_check_finds_sql(source):
    assert sql_strings(source)


@pytest.mark.parametrize("source", [
    '# SELECT * FROM results: a comment is not a string\nx = 1',
    'raise BadInput("the file is damaged; delete it so ganbench looks elsewhere")',
    'help = "training images held out to select on (default 10000)"',
    '"""One D update on a real batch, then one G update."""',
    'msg = "remove or replace them, then create the folder"',
])
def test_the_check_leaves_prose(source):
    assert not sql_strings(source)
