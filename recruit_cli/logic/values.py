"""Values as REDCap logic sees them: record values are strings, blanks are ``""``.

A value is a ``str`` (a record value or a literal), a ``float`` (a number literal or the
result of arithmetic; NaN when arithmetic had nothing to work on) or a ``bool`` (a
comparison). "Looks like a number" follows PHP, which REDCap runs on: optional white space,
a sign, digits with an optional decimal part, an optional exponent.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time

# re.ASCII: REDCap (PHP) reads only ASCII digits as numbers; "３０" is text, not 30.
_NUMERIC = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*\Z", re.ASCII)
_INTEGER = re.compile(r"\s*[+-]?\d+\s*\Z", re.ASCII)
_MISSING = object()
# Record values repeat a lot (ages, codes, "0"/"1"), so parsing each distinct string once
# makes a 100,000-record filter several times faster. Bounded so odd data can't grow it.
_NUMBER_CACHE: dict[str, float | None] = {}
_CACHE_LIMIT = 50_000

NAN = math.nan


def to_number(text: str) -> float | None:
    """The number ``text`` spells, or None when it is blank or not a number."""
    cached = _NUMBER_CACHE.get(text, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    number = float(text) if _NUMERIC.match(text) else None
    if number is not None and math.isinf(number):
        number = None  # "1e999": not a number REDCap could compare
    if len(_NUMBER_CACHE) < _CACHE_LIMIT:
        _NUMBER_CACHE[text] = number
    return number


def is_integer_text(text: str) -> bool:
    return _INTEGER.match(text) is not None


def number_of(value: object) -> float | None:
    """A value as a number: floats as they are, bools as 1/0, strings when numeric."""
    if isinstance(value, str):
        return to_number(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    return None


def format_number(number: float) -> str:
    """A number as REDCap would print it: ``18`` rather than ``18.0``."""
    if math.isnan(number):
        return "NaN"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def text_of(value: object) -> str:
    """A value as text, for string comparison and the string functions."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float | int):
        return format_number(float(value))
    return str(value)


def truthy(value: object) -> bool:
    """REDCap's (PHP's) idea of true: not blank, not "0", not zero, not NaN."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value == "" or value == "0":
            return False
        number = to_number(value)
        return True if number is None else number != 0
    if isinstance(value, float | int):
        return value == value and value != 0  # NaN is not true
    return bool(value)


def equal(left: object, right: object) -> bool:
    """``=``: numerically when both sides look like numbers, otherwise as text."""
    a, b = number_of(left), number_of(right)
    if a is not None and b is not None:
        return a == b
    return text_of(left) == text_of(right)


def order(op: str, left: object, right: object) -> bool:
    """``< <= > >=`` as REDCap answers them: a blank on either side is never in order."""
    if left == "" or right == "":
        return False
    a, b = number_of(left), number_of(right)
    if a is not None and b is not None:
        return compare(op, a, b)
    return compare(op, text_of(left), text_of(right))


def compare(op: str, a: float | str, b: float | str) -> bool:
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]


def arithmetic(op: str, a: float, b: float) -> float:
    """``+ - * / ^`` on numbers; anything undefined (x/0, overflow) is NaN, never an error."""
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b if b != 0 else NAN
        result = a**b
        return result if isinstance(result, float) else NAN  # complex from (-8) ^ 0.5
    except (OverflowError, ZeroDivisionError):
        return NAN


def midnight(day: date) -> datetime:
    return datetime.combine(day, time())
