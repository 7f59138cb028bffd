"""scripts/rerender_leaderboard.py: a published leaderboard re-drawn from its CSV under today's rules loses the
bold of rows on one seed and keeps every number; a table whose numbers would change is refused, nothing written."""

from ganbench.bench.tables import numbers_csv, render, summary_frame

from tests.helpers import load_script


def _rows():
    return [{"model": m, "seed": s, "status": "ok", "fid": f, "kid_mean": f / 1000, "num_samples": 1000,
             "ref_samples": 1000, "dataset": "fashion-mnist", "split": "test", "budget": "quick"}
            for m, s, f in (("pilot", 0, 20.0), ("three", 0, 30.0), ("three", 1, 31.0), ("three", 2, 32.5))]


def _published(tmp_path):
    """A leaderboard as the old rule drew it: the pilot's lower FID and KID in bold, 'best' in its Welch cell."""
    table = render(summary_frame(_rows()), "md", 1000).splitlines()
    old = [line.replace("| 20.00 ", "| **20.00** ").replace("| 20.00 ", "| **20.00** ")
           .replace("pilot (1 seed)", "best          ") for line in table]
    md = tmp_path / "lb.md"
    md.write_text("# lb\n\n> Cells: mean ± std [95% CI] over seeds; best per column in bold; diverged runs ...\n\n"
                  + "\n".join(old) + "\n\nmore text\n")
    (tmp_path / "lb.csv").write_text(numbers_csv(_rows()))
    return md


def test_one_seed_loses_its_bold_and_no_number_changes(tmp_path, capsys):
    md = _published(tmp_path)
    assert "**20.00**" in md.read_text()
    assert load_script("rerender_leaderboard").main([str(md)]) == 0
    text = md.read_text()
    assert "**" not in text and "pilot (1 seed)" in text and "more text" in text
    assert "bold where it rests on 2 or more seeds (one seed is a pilot)" in text
    assert "31.17 ± 1.26" in text  # the three-seed row's numbers as they were
    assert load_script("rerender_leaderboard").main([str(md)]) == 0 and "unchanged" in capsys.readouterr().out


def test_a_table_whose_numbers_differ_from_its_csv_is_refused(tmp_path, capsys):
    md = _published(tmp_path)
    md.write_text(md.read_text().replace("31.17", "31.18"))
    before = md.read_text()
    assert load_script("rerender_leaderboard").main([str(md)]) == 2
    assert "does not re-draw" in capsys.readouterr().err and md.read_text() == before
