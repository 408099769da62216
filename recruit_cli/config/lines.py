"""Where a key sits in a TOML file, so an error can name its line.

tomllib gives no positions, so this scans the text: table headers (``[a.b]``, ``[[a]]``)
and ``key = value`` lines, counting arrays of tables so that ``groups[1].first_id`` finds
the ``first_id`` under the second ``[[groups]]``. Best effort: keys inside inline tables and
multi-line values resolve to the nearest enclosing key or table.
"""

from __future__ import annotations

import re

KeyPath = tuple[str | int, ...]

_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_DOTTED = rf"{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*"
_HEADER = re.compile(rf"^\s*(\[\[|\[)\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_BARE_OR_QUOTED)


def dotted(path: KeyPath) -> str:
    """``("groups", 1, "first_id")`` -> ``groups[1].first_id``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _split(key: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(key)]


class LineIndex:
    """Key path -> 1-based line number, built from the TOML source text."""

    def __init__(self, text: str = "") -> None:
        self._lines: dict[KeyPath, int] = {}
        self._scan(text)

    def _scan(self, text: str) -> None:
        arrays: dict[KeyPath, int] = {}  # resolved array-of-tables path -> items seen
        table: KeyPath = ()
        in_string: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if in_string is not None:  # inside a multi-line string: skip until it closes
                if line.count(in_string) % 2 == 1:
                    in_string = None
                continue
            header = _HEADER.match(line)
            if header:
                parts = self._resolve(_split(header.group(2)), arrays)
                if header.group(1) == "[[":
                    index = arrays.get(parts, 0)
                    arrays[parts] = index + 1
                    parts = (*parts, index)
                table = parts
                self._lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self._lines.setdefault((*table, *_split(key.group(1))), number)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_string = quote
                    break

    @staticmethod
    def _resolve(parts: list[str], arrays: dict[KeyPath, int]) -> KeyPath:
        # A header inside an array of tables ([groups.extra]) belongs to its latest item.
        resolved: KeyPath = ()
        for position, part in enumerate(parts):
            resolved = (*resolved, part)
            if resolved in arrays and position < len(parts) - 1:
                resolved = (*resolved, arrays[resolved] - 1)
        return resolved

    def find(self, path: KeyPath) -> int | None:
        """The line of ``path``, else of its nearest ancestor that has one, else None."""
        for end in range(len(path), 0, -1):
            line = self._lines.get(path[:end])
            if line is not None:
                return line
        return None
