"""User text (labels, names, module paths, formulas, numbers) as data in
Graphviz input: the one DOT-string escaper and the one HTML-like-label
escaper. Nothing a user writes ever becomes DOT syntax or markup.

Both first make the text *visible*: control and format characters (newline,
tab, NUL, bidi overrides, line separators) are written as their Python
escapes (``\\n``, ``\\x00``, ``\\u202e``) and text longer than
:data:`MAX_TEXT` characters is cut with ``…``.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["MAX_TEXT", "visible", "dot_string", "html_text"]

#: Longest piece of user text drawn (longer text is cut, ending in ``…``).
MAX_TEXT = 200


def visible(text: Any) -> str:
    """``text`` as printable characters only, at most :data:`MAX_TEXT` long."""
    s = str(text)
    if len(s) > MAX_TEXT:
        s = s[:MAX_TEXT - 1] + "…"
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in s)


def dot_string(*lines: Any) -> str:
    """A DOT double-quoted string showing each of ``lines`` literally, one per
    line: backslashes, quotes and ``&`` (Graphviz reads entities in plain
    labels too) are escaped, so the text can neither end the string nor use
    Graphviz's ``\\N``/``\\G``/``\\l`` escapes."""
    return '"' + "\\n".join(
        visible(t).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
        for t in lines) + '"'


def html_text(text: Any) -> str:
    """``text`` for the inside of a Graphviz HTML-like label (``<...>``):
    ``& < > " '`` as entities, so no tag or attribute can be formed, and
    backslashes doubled (Graphviz reads ``\\N``, ``\\G``... there too)."""
    return html.escape(visible(text).replace("\\", "\\\\"), quote=True)
