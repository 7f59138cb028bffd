"""The Markdown that ganbench writes, as HTML: paragraphs, GitHub pipe tables, images, **bold** and `code`.

Not a general Markdown parser: it renders what ``tables.py`` and the search report produce, so a page that
shows the same text as a ``.md`` file reads as a web page (tables as tables) with no dependency added. Images
named in ``![alt](name)`` are inlined from ``images`` (PNG bytes by name), so the page is one file.
"""

from __future__ import annotations

import base64
import html
import re

_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]+)\)$")
_INLINE = [(re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"), (re.compile(r"`([^`]+)`"), r"<code>\1</code>")]


def inline(text: str) -> str:
    """One line of text, escaped, with **bold** and `code` marked up."""
    out = html.escape(text, quote=False)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> str:
    head, body = _cells(lines[0]), [_cells(x) for x in lines[2:]]
    rows = ["<tr>" + "".join(f"<th>{inline(c)}</th>" for c in head) + "</tr>"]
    rows += ["<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>" for r in body]
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def img(b64: str, alt: str) -> str:
    """An <img> of a base64 PNG, inline, so the page stays one file (the run report's images too)."""
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{b64}'>"


def _image(alt: str, name: str, images: dict[str, bytes]) -> str:
    if name not in images:
        return f"<p>[{html.escape(alt)}: {html.escape(name)} not written]</p>"
    return img(base64.b64encode(images[name]).decode(), alt)


def to_html(md: str, images: dict[str, bytes] | None = None) -> str:
    """The body of a page for ``md``: each block (lines between blank lines) a table, an image or a paragraph;
    a line starting with "> " is a note, "- " an item of a list."""
    images = images or {}
    blocks, out = re.split(r"\n\s*\n", md.strip()), []
    for block in blocks:
        lines = [x for x in block.splitlines() if x.strip()]
        if not lines:
            continue
        if len(lines) >= 2 and all(x.lstrip().startswith("|") for x in lines) and set(lines[1]) <= set("|-: "):
            out.append(_table(lines))
        elif len(lines) == 1 and _IMAGE.match(lines[0].strip()):
            alt, name = _IMAGE.match(lines[0].strip()).groups()
            out.append(_image(alt, name, images))
        elif all(x.startswith("- ") for x in lines):
            out.append("<ul>" + "".join(f"<li>{inline(x[2:])}</li>" for x in lines) + "</ul>")
        else:
            for x in lines:  # each line its own paragraph, as the .md's lines are sentences or notes
                text = x[2:] if x.startswith("> ") else x
                out.append(f"<p{' class=note' if x.startswith('> ') else ''}>{inline(text)}</p>")
    return "\n".join(out)


STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1300px}table{border-collapse:collapse;margin:1em 0;"
         "font-size:13px}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f3f3f3}"
         "p{font-size:14px;line-height:1.4}p.note{color:#555}code{background:#f3f3f3;padding:0 2px}"
         "img{max-width:48%;margin:4px}")
