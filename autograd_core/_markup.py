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
import json
from typing import Any

__all__ = ["MAX_TEXT", "visible", "dot_string", "html_text", "json_script", "inline_script"]

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


def json_script(id_: str, data: Any) -> str:
    """``data`` as a JSON ``<script>`` block of an HTML page that no text
    inside can close (``<``, ``>`` and ``&`` written as JSON escapes)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{html.escape(id_, quote=True)}">{text}</script>\n'


def inline_script(code: str) -> str:
    """One of the package's own scripts inlined in a ``<script>`` element."""
    if "</script" in code.lower():  # pragma: no cover - the shipped assets never contain it
        raise ValueError("an inlined script must not contain '</script'")
    return f"<script>{code}</script>\n"
