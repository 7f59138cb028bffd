"""bench/markdown_html.py: the Markdown ganbench writes, as HTML (tables as tables, images inlined)."""

import base64

from ganbench.bench.markdown_html import inline, to_html


def test_a_pipe_table_becomes_a_table_with_its_header_and_rows():
    md = "| model | FID ↓ |\n|---|---|\n| **ns** | 30.1 |\n| lsgan | 34.6 |"
    out = to_html(md)
    assert out.count("<table>") == 1 and out.count("<tr>") == 3 and out.count("<th>") == 2
    assert "<td><b>ns</b></td>" in out and "<td>34.6</td>" in out and "|" not in out


def test_images_are_inlined_and_a_missing_one_is_named():
    png = b"\x89PNG fake"
    out = to_html("![score by trial](a.png)\n\n![other](b.png)", {"a.png": png})
    assert f"src='data:image/png;base64,{base64.b64encode(png).decode()}'" in out
    assert "b.png not written" in out


def test_text_is_escaped_and_marked_up():
    assert inline("**Search.** `train[50000:]` <i> & x") == "<b>Search.</b> <code>train[50000:]</code> &lt;i&gt; &amp; x"
    out = to_html("> a note\nnext line\n\n- one\n- two")
    assert "<p class=note>a note</p>" in out and "<p>next line</p>" in out
    assert "<ul><li>one</li><li>two</li></ul>" in out
