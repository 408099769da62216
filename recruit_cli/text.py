"""What counts as a control character: the one test, wherever text from outside reaches a
header, a key, a claim or a printed line.

A line break in a value bound for an e-mail header would inject a header; one in a record
id or a claim key would forge a log line. Unicode's line and paragraph separators break
lines too, so they count.
"""

from __future__ import annotations

import unicodedata

# C0 and C1 controls and DEL (Cc), and Unicode's line and paragraph separators.
_CONTROL = frozenset({"Cc", "Zl", "Zp"})
# Also invisible: format characters (bidirectional overrides, zero-width joiners) and lone
# surrogates. A name that must read the same to every person and program refuses them too.
_UNPRINTABLE = _CONTROL | {"Cf", "Cs"}


def has_control(value: str) -> bool:
    """Whether ``value`` holds a control character or a line/paragraph separator."""
    if value.isascii() and value.isprintable():  # nearly every value: no per-character scan
        return False
    return any(unicodedata.category(ch) in _CONTROL for ch in value)


def has_unprintable(value: str) -> bool:
    """``has_control``, and invisible format characters and lone surrogates too."""
    if value.isascii() and value.isprintable():
        return False
    return any(unicodedata.category(ch) in _UNPRINTABLE for ch in value)
