"""REDCap's own two-valued answer, compiled once into nested closures.

The sandbox runs ``filterLogic`` over every record of an export, so the tree is turned
into Python closures once and a record is then evaluated without walking the tree or
dispatching on node types. Nothing here raises on odd data: a blank or a non-number gives
REDCap's answer (a blank is never ``<``, ``>`` ... anything; arithmetic on it is NaN).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping

from recruit_cli.logic.dates import Clock
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
    chain,
)
from recruit_cli.logic.nodes import Unary as UnaryNode
from recruit_cli.logic.values import (
    NAN,
    arithmetic,
    equal,
    format_number,
    number_of,
    order,
    text_of,
    to_number,
    truthy,
)

Record = Mapping[str, str]
Fn = Callable[[Record, Clock], object]

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compile_redcap(node: Node) -> Fn:
    """A closure computing ``node``'s value on a record, the way REDCap does."""
    if isinstance(node, Field):
        key = node.key
        # "or ''" also covers a None that a careless caller may pass for a blank.
        return lambda record, clock: record.get(key) or ""
    if isinstance(node, String | Number | Boolean):
        constant: object = node.value
        return lambda record, clock: constant
    if isinstance(node, UnaryNode):
        return _unary(node)
    if isinstance(node, Binary):
        return _binary(node)
    if isinstance(node, Call):
        return _call(node)
    raise TypeError(f"unknown node {node!r}")  # pragma: no cover - the parser makes no others


def _unary(node: UnaryNode) -> Fn:
    inner = compile_redcap(node.operand)
    if node.op == "not":
        return lambda record, clock: not truthy(inner(record, clock))

    sign = -1.0 if node.op == "-" else 1.0

    def signed(record: Record, clock: Clock) -> object:
        number = number_of(inner(record, clock))
        return NAN if number is None else sign * number

    return signed


def _binary(node: Binary) -> Fn:
    op = node.op
    if op in ("and", "or"):
        return _logical(node)
    left, right = compile_redcap(node.left), compile_redcap(node.right)
    if op in ("=", "<>"):
        literal_side = _field_and_literal(node)
        if literal_side is not None:
            return _field_equals(*literal_side, negated=op == "<>")
    if op == "=":
        return lambda record, clock: equal(left(record, clock), right(record, clock))
    if op == "<>":
        return lambda record, clock: not equal(left(record, clock), right(record, clock))
    if op in ARITHMETIC:

        def arith(record: Record, clock: Clock) -> object:
            a, b = number_of(left(record, clock)), number_of(right(record, clock))
            return NAN if a is None or b is None else arithmetic(op, a, b)

        return arith
    if isinstance(node.left, Field) and isinstance(node.right, Number):
        return _field_vs_number(node.left.key, op, node.right.value)
    return lambda record, clock: order(op, left(record, clock), right(record, clock))


def _logical(node: Binary) -> Fn:
    # A run of one operator compiles flat: no deep recursion for long filterLogic lists.
    parts = [compile_redcap(operand) for operand in chain(node)]
    if len(parts) == 2:
        first, second = parts
        if node.op == "and":
            return lambda record, clock: (
                truthy(first(record, clock)) and truthy(second(record, clock))
            )
        return lambda record, clock: truthy(first(record, clock)) or truthy(second(record, clock))
    decisive = node.op == "or"  # "or" stops at the first true part, "and" at the first false

    def logical(record: Record, clock: Clock) -> object:
        for part in parts:
            if truthy(part(record, clock)) is decisive:
                return decisive
        return not decisive

    return logical


def _field_and_literal(node: Binary) -> tuple[str, object] | None:
    """(record key, literal value) when ``node`` compares a field with a literal."""
    for field, literal in ((node.left, node.right), (node.right, node.left)):
        if isinstance(field, Field) and isinstance(literal, String | Number):
            return field.key, literal.value
    return None


def _field_equals(key: str, literal: object, *, negated: bool) -> Fn:
    """The common ``[consent] = '1'``: same answers as ``values.equal``, fewer steps."""
    literal_text, literal_number = text_of(literal), number_of(literal)

    def test(record: Record, clock: Clock) -> object:
        value = record.get(key) or ""
        if value == literal_text:
            return not negated  # the same text is the same number too
        if literal_number is None:
            return negated  # a non-numeric literal only equals its own text
        number = to_number(value)
        return (number is not None and number == literal_number) is not negated

    return test


def _field_vs_number(key: str, op: str, limit: float) -> Fn:
    """The common ``[age] >= 18``, without the generic helpers' type checks."""
    test = _ORDER[op]
    limit_text = format_number(limit)

    def compare(record: Record, clock: Clock) -> object:
        value = record.get(key) or ""
        if value == "":
            return False
        number = to_number(value)
        if number is None:
            return test(value, limit_text)  # REDCap compares a non-number as text
        return test(number, limit)

    return compare


def _call(node: Call) -> Fn:
    args = [compile_redcap(arg) for arg in node.args]
    if node.name == "if":
        cond, then, otherwise = args
        return lambda record, clock: (
            then(record, clock) if truthy(cond(record, clock)) else otherwise(record, clock)
        )
    impl = SPECS[node.name].impl
    if impl is None:  # pragma: no cover - only if() has none, handled above
        raise TypeError(f"{node.name}() has no implementation")

    def call(record: Record, clock: Clock) -> object:
        try:
            return impl([arg(record, clock) for arg in args], clock, False)
        except ArgProblem:
            return NAN  # REDCap's answer for a function with nothing to work on

    return call
