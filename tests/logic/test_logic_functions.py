"""The functions: datediff with a fixed today, aggregates, rounding, string tests."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import pytest

from recruit_cli.logic import Truth, parse
from recruit_cli.logic.dates import Clock
from recruit_cli.logic.parser import parse_tree
from recruit_cli.logic.redcap_eval import compile_redcap

TODAY = date(2024, 6, 1)
DAYS_2000_TO_TODAY = (TODAY - date(2000, 1, 1)).days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("datediff('2024-05-01', '2024-06-01', 'd')", 31.0),
        ("datediff('2024-06-01', '2024-05-01', 'd')", 31.0),  # unsigned by default
        ("datediff('2024-06-01', '2024-05-01', 'd', true)", -31.0),
        ("datediff('2024-06-01', '2024-05-01', 'd', 'true')", -31.0),
        ("datediff('2024-06-01', '2024-05-01', 'd', false)", 31.0),
        ("datediff('2024-06-01', '2024-05-01', 'd', 'ymd', true)", -31.0),
        ("datediff('2024-05-01', '2024-06-01', 'd', 'ymd', TRUE)", 31.0),
        ("datediff('2024-05-01', '2024-05-02', 'h')", 24.0),
        ("datediff('2024-05-01', '2024-05-02', 'm')", 1440.0),
        ("datediff('2024-05-01', '2024-05-02', 's')", 86400.0),
        ("datediff('2024-01-01', '2024-01-31', 'M')", 30 / 30.44),
        ("datediff('2000-01-01', '2024-06-01', 'y')", DAYS_2000_TO_TODAY / 365.2425),
        ("datediff('2000-01-01', 'today', 'y')", DAYS_2000_TO_TODAY / 365.2425),
        ("datediff('today', '2000-01-01', 'y', true)", -DAYS_2000_TO_TODAY / 365.2425),
        ("datediff('TODAY', '2024-06-11', 'd')", 10.0),
        ("datediff('2024-05-01 08:00', '2024-05-01 10:30', 'h')", 2.5),
        ("datediff('2024-05-01 08:00:00', '2024-05-01 08:00:30', 's')", 30.0),
        ("datediff('2024-05-01T08:00:00', '2024-05-01 09:00', 'm')", 60.0),
        ("datediff('05/01/2024', '06-01-2024', 'd', 'mdy')", 31.0),
        ("datediff('01/05/2024', '01-06-2024', 'd', 'dmy')", 31.0),
        ("datediff('2024-05-01', '06/01/2024', 'd', 'mdy')", 31.0),  # Y-M-D read as such
        ("datediff('2024/05/01', '2024-06-01', 'd')", 31.0),
        ("datediff('2024-05-01', 'now', 'd')", 31.0),  # with a date, 'now' is 00:00 today
        ("DateDiff('2024-05-01', '2024-06-01', \"d\")", 31.0),
    ],
)
def test_datediff(text: str, expected: float) -> None:
    value = parse(text).value({}, today=TODAY)
    assert isinstance(value, float)
    assert value == pytest.approx(expected)


def test_datediff_now_with_a_datetime() -> None:
    now = datetime(2024, 6, 1, 10, 30)
    logic = parse("datediff([sent], 'now', 'h')")
    assert logic.value({"sent": "2024-06-01 08:00"}, today=now) == pytest.approx(2.5)
    assert logic.matches({"sent": "2024-06-01 08:00"}, today=now)


def test_datediff_iso_timestamps_with_offsets() -> None:
    # The pipeline's own timestamps: ISO-8601 with an offset.
    logic = parse("datediff([a], [b], 'h')")
    record = {"a": "2024-06-01T00:00:00+00:00", "b": "2024-06-01T03:00:00+02:00"}
    assert logic.value(record) == pytest.approx(1.0)
    aware_now = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=0)))
    age = parse("datediff('2024-06-01T11:00:00+00:00', 'now', 'h')").value({}, today=aware_now)
    assert age == pytest.approx(1.0)


def test_datediff_age_rule_with_fixed_today() -> None:
    logic = parse("datediff([dob], 'today', 'y') >= 18")
    assert logic.truth({"dob": "2006-05-31"}, today=TODAY).truth is Truth.TRUE
    assert logic.truth({"dob": "2006-06-30"}, today=TODAY).truth is Truth.FALSE
    assert logic.truth({"dob": ""}, today=TODAY).truth is Truth.UNKNOWN
    assert logic.matches({"dob": "2006-05-31"}, today=TODAY)
    assert not logic.matches({"dob": "2006-06-30"}, today=TODAY)


@pytest.mark.parametrize("dob", ["", "not a date", "2024-13-01", "2024-02-30", "31/12/2020"])
def test_datediff_on_bad_dates_is_nan_for_redcap(dob: str) -> None:
    logic = parse("datediff([dob], 'today', 'd')")
    assert not parse("datediff([dob], 'today', 'd') > 0").matches({"dob": dob})
    assert not parse("datediff([dob], 'today', 'd') <= 0").matches({"dob": dob})
    assert logic.value({"dob": dob}) is None
    assert logic.truth({"dob": dob}).unknown_fields == ("dob",)


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("sum([a], [b], [c])", {"a": "1", "b": "", "c": "2.5"}, 3.5),
        ("sum([a], 1)", {"a": ""}, 1.0),
        ("sum(1)", {}, 1.0),
        ("min([a], [b], 3)", {"a": "7", "b": "-2"}, -2.0),
        ("max([a], [b], 3)", {"a": "7", "b": ""}, 7.0),
        ("mean([a], [b], [c])", {"a": "1", "b": "2", "c": ""}, 1.5),
        ("median(1, 5, 2)", {}, 2.0),
        ("median(1, 5, 2, 4)", {}, 3.0),
        ("round(2.5)", {}, 3.0),
        ("round(-2.5)", {}, -3.0),
        ("round(2.45, 1)", {}, 2.5),
        ("round(1234.5678, 2)", {}, 1234.57),
        ("round(1250, -2)", {}, 1300.0),
        ("round([a], 1)", {"a": "3.14159"}, 3.1),
        ("roundup(2.11, 1)", {}, 2.2),
        ("roundup(-2.11, 1)", {}, -2.2),
        ("roundup(2)", {}, 2.0),
        ("rounddown(2.19, 1)", {}, 2.1),
        ("rounddown(-2.19)", {}, -2.0),
        ("abs(-3)", {}, 3.0),
        ("abs([a])", {"a": "-4.5"}, 4.5),
        ("isnumber([a])", {"a": "12.5"}, True),
        ("isnumber([a])", {"a": "12a"}, False),
        ("isnumber(3)", {}, True),
        ("isinteger([a])", {"a": "12"}, True),
        ("isinteger([a])", {"a": "12.5"}, False),
        ("isinteger(4)", {}, True),
        ("isblankormissingcode([a])", {"a": ""}, True),
        ("isblankormissingcode([a])", {}, True),
        ("isblankormissingcode([a])", {"a": " "}, False),
        ("isblankormissingcode([a])", {"a": "0"}, False),
        ("contains([a], 'PRE')", {"a": "a prefix"}, True),  # case-insensitive
        ("contains([a], 'z')", {"a": "abc"}, False),
        ("not_contain([a], 'z')", {"a": "abc"}, True),
        ("not_contain([a], 'B')", {"a": "abc"}, False),
        ("starts_with([a], 'AB')", {"a": "abc"}, True),
        ("starts_with([a], 'bc')", {"a": "abc"}, False),
        ("ends_with([a], 'BC')", {"a": "abc"}, True),
        ("ends_with([a], 'ab')", {"a": "abc"}, False),
        ("contains([a], 1)", {"a": "x1y"}, True),
        ("if([a] = '1', 'yes', 'no')", {"a": "1"}, "yes"),
        ("if([a] = '1', 'yes', 'no')", {"a": "2"}, "no"),
        ("if([a], 10, 20)", {"a": "0"}, 20.0),
        ("IF([a] > 2, [b], [c])", {"a": "3", "b": "B", "c": "C"}, "B"),
        ("if(1 = 1, 1, 1 / 0)", {}, 1.0),
        ("sum(if([a] = '1', 1, 0), if([b] = '1', 1, 0))", {"a": "1", "b": "1"}, 2.0),
    ],
)
def test_functions(text: str, record: dict[str, str], expected: object) -> None:
    logic = parse(text)
    assert logic.value(record) == expected
    assert logic.truth(record).truth is not Truth.UNKNOWN


@pytest.mark.parametrize(
    "text",
    [
        "sum([a], [b])",
        "mean([a])",
        "min([a])",
        "round([a])",
        "abs([a])",
        "rounddown([a], 1)",
        "round(1, [a])",
        "round(1, 0.5)",
        "round(1, 400)",
    ],
)
def test_functions_with_nothing_to_work_on_are_nan_for_redcap(text: str) -> None:
    value = compile_redcap(parse_tree(text))({"a": ""}, Clock(TODAY))
    assert isinstance(value, float) and math.isnan(value)
    assert parse(text).value({"a": ""}) is None
    assert parse(f"{text} = 0").truth({"a": ""}).truth is Truth.UNKNOWN


def test_sum_skips_non_numbers_for_redcap_but_not_for_truth() -> None:
    logic = parse("sum([a], [b]) = 3")
    record = {"a": "3", "b": "three"}
    assert logic.matches(record)
    assert logic.truth(record).truth is Truth.UNKNOWN
    assert logic.truth(record).unknown_fields == ("b",)


def test_string_tests_on_blank_are_false_for_redcap() -> None:
    assert not parse("contains([a], 'x')").matches({"a": ""})
    assert parse("not_contain([a], 'x')").matches({"a": ""})
