"""The REDCap logic language: the branching-logic / ``filterLogic`` coordinators write.

```python
logic = parse("[age] >= 18 and [consent] = '1'")   # LogicError(position=...) if malformed
logic.matches(record)          # REDCap's own two-valued answer (the sandbox's filterLogic)
logic.truth(record)            # Evaluation: TRUE / FALSE / UNKNOWN, and why
logic.value(record)            # the expression's value; None when it can't be told
logic.comparisons()            # (field, literal) pairs of [field] = 'code' tests, for doctor
```

Supported: ``[field]``, ``[field(code)]`` (checkbox option, read from ``field___code``),
'single' and "double" quoted strings, numbers, ``true`` / ``false``; ``= <> != < <= > >=``;
``and or not`` in any case; ``+ - * / ^``; parentheses; comment lines starting ``#`` or
``//``. Functions (names in any case): ``datediff(d1, d2, unit[, format][, signed])``
(units y M d h m s; 'today', 'now'; a year is 365.2425 days, a month 30.44), ``if``,
``sum min max mean median`` (blanks skipped), ``round roundup rounddown abs``,
``isblankormissingcode isnumber isinteger``, ``contains not_contain starts_with ends_with``
(case-insensitive). A checkbox code's record key follows REDCap's export: lower case, any
other character than a letter, digit or underscore becomes ``_`` (``[cb(-1)]`` reads
``cb____1``).

Not supported (a ``LogicError``, never a guess): events and instances (``[event][field]``),
smart variables, ``&&`` / ``||`` / ``!`` / ``==``, other functions. Error positions are
0-based character offsets into the logic text.

Comparison: numeric when both sides look like numbers (PHP's rule: ``"10" > "9"``), as text
otherwise. For ``matches`` a blank is never ``< <= > >=`` anything, and arithmetic or a
function with nothing to work on is NaN (never equal, never in order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum

from recruit_cli.errors import RecruitError
from recruit_cli.logic.dates import Clock
from recruit_cli.logic.nodes import Binary, Field, Node, Number, String, walk
from recruit_cli.logic.parser import parse_tree
from recruit_cli.logic.redcap_eval import compile_redcap
from recruit_cli.logic.truth_eval import TruthCompiler, Unknown
from recruit_cli.logic.values import truthy

__all__ = ["Evaluation", "Logic", "Truth", "parse"]


class Truth(Enum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Evaluation:
    """One three-valued answer; ``unknown_fields`` and ``reason`` are set for UNKNOWN only.

    ``reason`` is e.g. ``"[age] is blank"`` or ``"[age] is not a number: value withheld"``
    (several joined with ``"; "``); it never contains a record's values.
    """

    truth: Truth
    unknown_fields: tuple[str, ...] = ()
    reason: str = ""


_TRUE = Evaluation(Truth.TRUE)
_FALSE = Evaluation(Truth.FALSE)


class Logic:
    """Parsed REDCap logic, compiled once; evaluate it on any number of records."""

    __slots__ = ("_compiler", "_redcap", "_root", "_truth", "checkbox_refs", "fields", "text")

    def __init__(self, text: str, root: Node) -> None:
        self.text = text
        self._root = root
        refs = [n for n in walk(root) if isinstance(n, Field)]
        self.fields: frozenset[str] = frozenset(ref.name for ref in refs)
        self.checkbox_refs: frozenset[tuple[str, str]] = frozenset(
            (ref.name, ref.code) for ref in refs if ref.code is not None
        )
        self._redcap = compile_redcap(root)
        self._compiler = TruthCompiler(text)
        self._truth = self._compiler.compile(root)

    def __repr__(self) -> str:
        return f"Logic({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Logic) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def matches(self, record: Mapping[str, str], today: date | None = None) -> bool:
        """REDCap's own two-valued answer, as ``filterLogic`` gives it.

        A blank compared with ``< <= > >=`` is false; ``=`` / ``<>`` compare it as text;
        arithmetic or a function with nothing to work on gives NaN. Never raises on data.
        """
        return truthy(self._redcap(record, Clock(today)))

    def truth(self, record: Mapping[str, str], today: date | None = None) -> Evaluation:
        """The three-valued answer: UNKNOWN when a needed field is blank or not a number.

        Args:
            record: REDCap's flat export shape; checkbox options as ``field___code``.
            today: fixes 'today' (and, given a datetime, 'now') for ``datediff``.
        """
        clock = Clock(today)
        value = self._compiler.boolean(self._root, self._truth(record, clock), record, clock)
        if isinstance(value, Unknown):
            return Evaluation(Truth.UNKNOWN, value.fields, "; ".join(value.reasons))
        return _TRUE if value else _FALSE

    def holds(self, record: Mapping[str, str], today: date | None = None) -> bool:
        """Whether the logic is definitely true for ``record`` (``truth`` is TRUE).

        A field it needs that is blank or not a number is not "true", nor is odd data the
        evaluation trips on: this never raises on data. It is how a safety rule fires.
        """
        try:
            return self.truth(record, today).truth is Truth.TRUE
        except (ArithmeticError, ValueError, TypeError, LookupError, RecruitError):
            return False

    def comparisons(self) -> tuple[tuple[str, str], ...]:
        """Every ``(field, literal)`` that the logic tests for (in)equality, in source order.

        ``[sex] = '2'``, ``'2' = [sex]``, ``[sex] <> 2`` and ``[sex] != "2"`` all give
        ``("sex", "2")``: what a choice field is compared against, so that ``recruit
        doctor`` can tell a code the field doesn't have. A number is given as written
        (``[x] = -1.0`` gives ``"-1.0"``). Checkbox options (``[cb(2)] = '1'``) compare a
        checked flag, not a code, and are left out (they are ``checkbox_refs``); so are
        comparisons between two fields or two literals, and ``< <= > >=``.
        """
        out: list[tuple[str, str]] = []
        for node in walk(self._root):
            if not isinstance(node, Binary) or node.op not in ("=", "<>"):
                continue
            for ref, literal in ((node.left, node.right), (node.right, node.left)):
                if isinstance(ref, Field) and ref.code is None:
                    if isinstance(literal, String):
                        out.append((ref.name, literal.value))
                    elif isinstance(literal, Number):
                        out.append((ref.name, self.text[literal.start : literal.end]))
        return tuple(out)

    def value(self, record: Mapping[str, str], today: date | None = None) -> object:
        """The expression's value: a ``str`` (a field's raw value or a literal), a ``float``
        or a ``bool``; None when a needed field was blank or not a number."""
        value = self._truth(record, Clock(today))
        if isinstance(value, Unknown) or (isinstance(value, float) and value != value):
            return None
        return value


def parse(text: str) -> Logic:
    """Parse and compile REDCap logic.

    Raises:
        LogicError: malformed or unsupported logic, naming the 0-based position and what
            was expected, e.g. ``unknown function 'foo' at position 12``.
    """
    return Logic(text, parse_tree(text))
