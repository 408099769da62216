"""Calculated fields, computed the way REDCap's server side computes them.

REDCap evaluates a calc field's equation in PHP when data is imported, a form is saved or a
data-quality rule fixes calcs (REDCap's FAQ: a non-numeric value is replaced "during import,
form saving, data quality checks, or other server-side processing, using PHP"). On an import
it recalculates the calc fields that the imported fields feed, in the rows imported
("Update record (Auto calculation)" in the log). The result must be a number: anything else
leaves the field blank.

The sandbox evaluates the equation with recruit's logic module. An equation the module does
not support (``[event][field]``, smart variables, a function it lacks) is left blank rather
than guessed; docs/sandbox.md lists that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from recruit_cli.errors import LogicError
from recruit_cli.logic import Logic, parse
from recruit_cli.logic.values import number_of
from recruit_cli.sandbox.dictionary import Dictionary, Field


@dataclass(frozen=True)
class CalcField:
    field: Field
    logic: Logic | None  # None: an equation the logic module cannot read


def calc_fields(d: Dictionary) -> list[CalcField]:
    out = []
    for f in d.fields:
        if f.field_type != "calc":
            continue
        try:
            logic: Logic | None = parse(f.row.get("select_choices_or_calculations", ""))
        except LogicError:
            logic = None
        out.append(CalcField(f, logic))
    return out


def triggered(calcs: list[CalcField], changed: set[str]) -> list[CalcField]:
    """The calc fields that ``changed`` fields feed, directly or through other calcs, in
    data-dictionary order."""
    names = set(changed)
    hit: dict[str, CalcField] = {}
    grew = True
    while grew:
        grew = False
        for c in calcs:
            if c.field.name in hit or c.logic is None:
                continue
            if c.logic.fields & names:
                hit[c.field.name] = c
                names.add(c.field.name)
                grew = True
    return [c for c in calcs if c.field.name in hit]


def format_result(value: object) -> str:
    """A calc result as REDCap stores it: a number (PHP prints 14 significant digits), an
    integer without ``.0``; anything that is not a number is blank."""
    number = number_of(value)
    if number is None or math.isnan(number) or math.isinf(number):
        return ""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.14g}"


def compute(c: CalcField, row: Mapping[str, str], now: datetime) -> str:
    if c.logic is None:
        return ""
    return format_result(c.logic.value(row, now))
