"""Three-valued (Kleene) evaluation: TRUE, FALSE, or "can't tell" and why.

A closure returns a value or an ``Unknown`` naming the fields that were blank or not a
number where a value was needed. ``FALSE and UNKNOWN`` is FALSE, ``TRUE or UNKNOWN`` is
TRUE, ``not UNKNOWN`` is UNKNOWN. A test that asks about blankness (``[x] = ''``,
``[x] <> ''``, ``isblankormissingcode([x])``, ``isnumber([x])``) is never unknown: that
is the question. Reasons quote the logic, never the record's values (PHI).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from recruit_cli.logic.dates import Clock, parse_date
from recruit_cli.logic.functions import SPECS, ArgProblem
from recruit_cli.logic.nodes import (
    ARITHMETIC,
    Binary,
    Boolean,
    Call,
    Field,
    Node,
    Number,
    String,
    Unary,
    chain,
    fields_in,
)
from recruit_cli.logic.values import arithmetic, compare, equal, number_of, text_of, truthy

Record = Mapping[str, str]
Fn = Callable[[Record, Clock], object]


@dataclass(frozen=True, slots=True)
class Unknown:
    fields: tuple[str, ...]
    reasons: tuple[str, ...]


def merge(*parts: object) -> Unknown:
    """The union of the ``Unknown`` among ``parts``, in order, without repeats."""
    unknowns = [p for p in parts if isinstance(p, Unknown)]
    fields = tuple(dict.fromkeys(f for u in unknowns for f in u.fields))
    reasons = tuple(dict.fromkeys(r for u in unknowns for r in u.reasons))
    return Unknown(fields, reasons)


class TruthCompiler:
    """Compiles a tree; ``text`` is the logic, quoted in reasons."""

    def __init__(self, text: str) -> None:
        self.text = text

    def label(self, node: Node) -> str:
        return node.label if isinstance(node, Field) else self.text[node.start : node.end]

    def problem(self, node: Node, kind: str, record: Record, clock: Clock) -> Unknown:
        """``node`` was ``kind`` ("blank", "not a number", "not a date") where needed."""
        reason = f"{self.label(node)} is {kind}"
        if kind != "blank":
            reason += ": value withheld"
        if isinstance(node, Field):
            return Unknown((node.name,), (reason,))
        # A compound operand (an if(), say): blame its fields that are blank or unusable.
        culprits = []
        for ref in fields_in(node):
            value = record.get(ref.key) or ""
            if value == "" or (
                number_of(value) is None
                if kind != "not a date"
                else parse_date(value, "ymd", clock) is None
            ):
                culprits.append(ref.name)
        return Unknown(tuple(dict.fromkeys(culprits)), (reason,))

    def boolean(self, node: Node, value: object, record: Record, clock: Clock) -> object:
        """``value`` as True / False, or an Unknown."""
        if isinstance(value, bool | Unknown):
            return value
        if value == "":
            return self.problem(node, "blank", record, clock)
        if isinstance(value, float) and value != value:
            return self.problem(node, "not a number", record, clock)
        return truthy(value)

    def number(self, node: Node, value: object, record: Record, clock: Clock) -> object:
        """``value`` as a float, or an Unknown."""
        if isinstance(value, Unknown):
            return value
        if value == "":
            return self.problem(node, "blank", record, clock)
        number = number_of(value)
        if number is None or number != number:
            return self.problem(node, "not a number", record, clock)
        return number

    # -- compilation ----------------------------------------------------------------------
    def compile(self, node: Node) -> Fn:
        if isinstance(node, Field):
            key = node.key
            return lambda record, clock: record.get(key) or ""
        if isinstance(node, String | Number | Boolean):
            constant: object = node.value
            return lambda record, clock: constant
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            if node.op in ("and", "or"):
                return self._logical(node)
            if node.op in ARITHMETIC:
                return self._arithmetic(node)
            if node.op in ("=", "<>"):
                return self._equality(node)
            return self._order(node)
        if isinstance(node, Call):
            return self._if(node) if node.name == "if" else self._call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def _unary(self, node: Unary) -> Fn:
        inner, operand = self.compile(node.operand), node.operand
        if node.op == "not":

            def negate(record: Record, clock: Clock) -> object:
                value = self.boolean(operand, inner(record, clock), record, clock)
                return value if isinstance(value, Unknown) else not value

            return negate
        sign = -1.0 if node.op == "-" else 1.0

        def signed(record: Record, clock: Clock) -> object:
            value = self.number(operand, inner(record, clock), record, clock)
            return value if isinstance(value, Unknown) else sign * value  # type: ignore[operator]

        return signed

    def _logical(self, node: Binary) -> Fn:
        # A run of one operator compiles flat: no deep recursion for long lists.
        parts = [(operand, self.compile(operand)) for operand in chain(node)]
        # "and" is decided by the first FALSE, "or" by the first TRUE.
        decisive = node.op == "or"

        def logical(record: Record, clock: Clock) -> object:
            unknowns = []
            for operand, part in parts:
                value = self.boolean(operand, part(record, clock), record, clock)
                if value is decisive:
                    return decisive
                if isinstance(value, Unknown):
                    unknowns.append(value)
            return merge(*unknowns) if unknowns else not decisive

        return logical

    def _arithmetic(self, node: Binary) -> Fn:
        left, right, op = self.compile(node.left), self.compile(node.right), node.op

        def arith(record: Record, clock: Clock) -> object:
            a = self.number(node.left, left(record, clock), record, clock)
            b = self.number(node.right, right(record, clock), record, clock)
            if isinstance(a, Unknown) or isinstance(b, Unknown):
                return merge(a, b)
            return arithmetic(op, a, b)  # type: ignore[arg-type]

        return arith

    def _operands(self, node: Binary, record: Record, clock: Clock, a: object, b: object) -> object:
        """None when both sides have usable values, else the Unknown."""
        if isinstance(a, Unknown) or isinstance(b, Unknown):
            return merge(a, b)
        problems = [
            self.problem(side, "blank", record, clock)
            for side, value in ((node.left, a), (node.right, b))
            if value == ""
        ]
        for side, value, other in ((node.left, a, b), (node.right, b, a)):
            nan = isinstance(value, float) and value != value
            # Against a number, a non-numeric text can't be compared meaningfully.
            text_vs_number = isinstance(other, float) and value != "" and number_of(value) is None
            if nan or text_vs_number:
                problems.append(self.problem(side, "not a number", record, clock))
        return merge(*problems) if problems else None

    def _equality(self, node: Binary) -> Fn:
        left, right, negated = self.compile(node.left), self.compile(node.right), node.op == "<>"
        asks_blank = any(isinstance(n, String) and n.value == "" for n in (node.left, node.right))

        def equality(record: Record, clock: Clock) -> object:
            a, b = left(record, clock), right(record, clock)
            if asks_blank:
                if isinstance(a, Unknown) or isinstance(b, Unknown):
                    return merge(a, b)
                return (text_of(a) == text_of(b)) != negated
            problem = self._operands(node, record, clock, a, b)
            if problem is not None:
                return problem
            return equal(a, b) != negated

        return equality

    def _order(self, node: Binary) -> Fn:
        left, right, op = self.compile(node.left), self.compile(node.right), node.op

        def ordered(record: Record, clock: Clock) -> object:
            a, b = left(record, clock), right(record, clock)
            problem = self._operands(node, record, clock, a, b)
            if problem is not None:
                return problem
            x, y = number_of(a), number_of(b)
            if x is not None and y is not None:
                return compare(op, x, y)
            if x is None and y is None:
                return compare(op, text_of(a), text_of(b))
            # One side a number, the other not: REDCap would compare text; we can't tell.
            side = node.left if x is None else node.right
            return self.problem(side, "not a number", record, clock)

        return ordered

    def _if(self, node: Call) -> Fn:
        cond, then, otherwise = (self.compile(arg) for arg in node.args)

        def choose(record: Record, clock: Clock) -> object:
            test = self.boolean(node.args[0], cond(record, clock), record, clock)
            if test is True:
                return then(record, clock)
            if test is False:
                return otherwise(record, clock)
            # Can't tell which branch: the answer is known only if both give the same.
            a, b = then(record, clock), otherwise(record, clock)
            known = not isinstance(a, Unknown) and not isinstance(b, Unknown)
            if known and type(a) is type(b) and equal(a, b):
                return a
            return merge(test, a, b)

        return choose

    def _call(self, node: Call) -> Fn:
        spec = SPECS[node.name]
        impl, args = spec.impl, [self.compile(arg) for arg in node.args]
        if impl is None:  # pragma: no cover - only if() has none, handled above
            raise TypeError(f"{node.name}() has no implementation")

        def call(record: Record, clock: Clock) -> object:
            values = [arg(record, clock) for arg in args]
            if any(isinstance(v, Unknown) for v in values):
                return merge(*values)
            blank = [i for i in spec.needs_text if values[i] == ""]
            try:
                if blank:
                    raise ArgProblem(tuple(blank), "blank")
                return impl(values, clock, True)
            except ArgProblem as problem:
                return merge(
                    *(
                        self.problem(node.args[i], problem.kind, record, clock)
                        for i in problem.indices
                    )
                )

        return call
