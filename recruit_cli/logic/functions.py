"""REDCap's logic functions: their arity, parse-time checks and implementations.

An implementation gets the evaluated arguments, the clock and ``strict``. It raises
``ArgProblem`` naming the arguments it could not use; the REDCap evaluator turns that into
NaN (REDCap's own answer), the three-valued evaluator into UNKNOWN with a reason. ``strict``
is set by the three-valued evaluator: a non-number that REDCap would quietly skip (in
``sum`` and friends) makes the answer unknown instead.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

from recruit_cli.logic.dates import DATE_FORMATS, UNIT_SECONDS, Clock, datediff, parse_date
from recruit_cli.logic.nodes import Boolean, Call, Node, String
from recruit_cli.logic.values import is_integer_text, number_of, text_of, to_number


class ArgProblem(Exception):
    """Arguments (by index) that were blank, not a number or not a date."""

    def __init__(self, indices: tuple[int, ...], kind: str) -> None:
        super().__init__(kind)
        self.indices = indices
        self.kind = kind  # "blank" | "not a number" | "not a date"


Impl = Callable[[Sequence[object], Clock, bool], object]
Check = Callable[[Call], "tuple[int, str] | None"]


@dataclass(frozen=True)
class Spec:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    impl: Impl | None  # None for if(): both evaluators handle it (it is lazy)
    needs_text: tuple[int, ...] = ()  # args whose blank makes the answer unknown
    check: Check | None = None  # parse-time validation of literal arguments


def _number(args: Sequence[object], i: int) -> float:
    value = args[i]
    if value == "":
        raise ArgProblem((i,), "blank")
    number = number_of(value)
    if number is None or number != number:
        raise ArgProblem((i,), "not a number")
    return number


def _numbers(args: Sequence[object], strict: bool) -> list[float]:
    """The numbers among ``args``; blanks are skipped, as REDCap does."""
    out: list[float] = []
    blank: list[int] = []
    bad: list[int] = []
    for i, value in enumerate(args):
        if value == "":
            blank.append(i)
            continue
        number = number_of(value)
        if number is None or number != number:
            bad.append(i)
        else:
            out.append(number)
    if bad and (strict or not out):
        raise ArgProblem(tuple(bad), "not a number")
    if not out:
        raise ArgProblem(tuple(blank), "blank")
    return out


def _aggregate(reduce: Callable[[list[float]], float]) -> Impl:
    def impl(args: Sequence[object], clock: Clock, strict: bool) -> object:
        return float(reduce(_numbers(args, strict)))

    return impl


def _rounding(mode: str) -> Impl:
    def impl(args: Sequence[object], clock: Clock, strict: bool) -> object:
        number = _number(args, 0)
        places = _number(args, 1) if len(args) > 1 else 0.0
        if not places.is_integer():
            raise ArgProblem((1,), "not a number")
        try:
            exact = Decimal(repr(number)).quantize(Decimal(1).scaleb(-int(places)), rounding=mode)
        except InvalidOperation as exc:  # too many places for the precision
            raise ArgProblem((1,), "not a number") from exc
        return float(exact)

    return impl


def _text_test(test: Callable[[str, str], bool]) -> Impl:
    # REDCap's string tests ignore case.
    def impl(args: Sequence[object], clock: Clock, strict: bool) -> object:
        return test(text_of(args[0]).lower(), text_of(args[1]).lower())

    return impl


def _datediff(args: Sequence[object], clock: Clock, strict: bool) -> object:
    unit = str(args[2])
    fmt, signed = "ymd", False
    for extra in args[3:]:
        if isinstance(extra, bool):
            signed = extra
        elif isinstance(extra, str) and extra.lower() in ("true", "false"):
            signed = extra.lower() == "true"
        else:
            fmt = str(extra).lower()
    moments = []
    for i in (0, 1):
        value = args[i]
        if value == "":
            raise ArgProblem((i,), "blank")
        moment = parse_date(value, fmt, clock) if isinstance(value, str) else None
        if moment is None:
            raise ArgProblem((i,), "not a date")
        moments.append(moment)
    return datediff(moments[0], moments[1], unit, signed)


def _check_datediff(call: Call) -> tuple[int, str] | None:
    unit = call.args[2]
    if not isinstance(unit, String) or unit.value not in UNIT_SECONDS:
        return unit.start, "datediff() unit must be one of 'y', 'M', 'd', 'h', 'm', 's'"
    for index, arg in enumerate(call.args[3:], start=3):
        if _is_signed_flag(arg):
            if index != len(call.args) - 1:
                return arg.start, "datediff() takes the signed flag (true/false) last"
        elif index == 4:
            return arg.start, "datediff() 5th argument must be true or false"
        elif not isinstance(arg, String) or arg.value.lower() not in DATE_FORMATS:
            return arg.start, "datediff() date format must be 'ymd', 'mdy' or 'dmy'"
    return None


def _is_signed_flag(node: Node) -> bool:
    if isinstance(node, Boolean):
        return True
    return isinstance(node, String) and node.value.lower() in ("true", "false")


def _is_blank(args: Sequence[object], clock: Clock, strict: bool) -> object:
    # Projects' own missing-data codes are not known here: blank is the only one.
    value = args[0]
    return value == "" or (isinstance(value, float) and value != value)


def _is_number(args: Sequence[object], clock: Clock, strict: bool) -> object:
    value = args[0]
    if isinstance(value, str):
        return to_number(value) is not None
    return isinstance(value, float) and value == value


def _is_integer(args: Sequence[object], clock: Clock, strict: bool) -> object:
    value = args[0]
    if isinstance(value, str):
        return is_integer_text(value)
    return isinstance(value, float) and value.is_integer()


def _abs(args: Sequence[object], clock: Clock, strict: bool) -> object:
    return abs(_number(args, 0))


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("if", 3, 3, None),
        Spec("datediff", 3, 5, _datediff, check=_check_datediff),
        Spec("sum", 1, None, _aggregate(sum)),
        Spec("min", 1, None, _aggregate(min)),
        Spec("max", 1, None, _aggregate(max)),
        Spec("mean", 1, None, _aggregate(statistics.fmean)),
        Spec("median", 1, None, _aggregate(statistics.median)),
        Spec("round", 1, 2, _rounding(ROUND_HALF_UP)),
        Spec("roundup", 1, 2, _rounding(ROUND_UP)),
        Spec("rounddown", 1, 2, _rounding(ROUND_DOWN)),
        Spec("abs", 1, 1, _abs),
        Spec("isblankormissingcode", 1, 1, _is_blank),
        Spec("isnumber", 1, 1, _is_number),
        Spec("isinteger", 1, 1, _is_integer),
        Spec("contains", 2, 2, _text_test(lambda h, n: n in h), needs_text=(0,)),
        Spec("not_contain", 2, 2, _text_test(lambda h, n: n not in h), needs_text=(0,)),
        Spec("starts_with", 2, 2, _text_test(str.startswith), needs_text=(0,)),
        Spec("ends_with", 2, 2, _text_test(str.endswith), needs_text=(0,)),
    )
}
