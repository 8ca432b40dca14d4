"""Where a key sits in a TOML text: the line number a validation error points at.

``tomllib`` returns plain dicts without positions. :class:`KeyLines` scans the text once
and records, for every key it defines, the line of its first definition: table headers,
``key = value`` lines (dotted and quoted keys included) and the keys of inline tables on the
same line. It reads TOML the way people write search files, not every corner of the grammar
(a key inside a multi-line string, say); a key it does not find is reported at the line of
the nearest enclosing key it did find.
"""

from __future__ import annotations

import re

__all__ = ["KeyLines"]

_PART = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_PART})\s*=")


def _split(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""", dotted)
    return tuple(p.strip("\"'") for p in parts)


class KeyLines:
    """Line numbers (1-based) of the keys of a TOML text.

    Examples
    --------
    >>> lines = KeyLines('''[search]
    ... name = "x"
    ... [space]
    ... hidden = { from = 4, to = 2 }
    ... [space.learning]
    ... t_inhibit = 1e-3
    ... ''')
    >>> lines.line("space", "hidden", "to"), lines.line("space", "learning", "t_inhibit")
    (4, 6)
    >>> lines.line("space", "learning", "v_read")  # not in the text: its table's header
    5
    """

    def __init__(self, text: str):
        self._lines: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        for number, raw in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(raw)
            if header:
                table = _split(header.group(1))
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(raw)
            if key is None:
                continue
            path = table + _split(key.group(1))
            self._lines.setdefault(path, number)
            rest = raw[key.end():]
            if "{" in rest:
                for inner in _INLINE_KEY.findall(rest):
                    self._lines.setdefault(path + _split(inner), number)

    def line(self, *path: str) -> int | None:
        """The line of ``path``, or of its longest prefix that the text defines (None if no
        prefix is found)."""
        for n in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:n]))
            if found is not None:
                return found
        return None
