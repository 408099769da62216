"""Three-valued evaluation: TRUE / FALSE / UNKNOWN, which fields, and why."""

from __future__ import annotations

import itertools

import pytest

from recruit_cli.logic import Evaluation, Truth, parse

T, F, U = Truth.TRUE, Truth.FALSE, Truth.UNKNOWN
# The atom "[x] = '1'" is TRUE for "1", FALSE for "0" and UNKNOWN for a blank.
VALUE_FOR = {T: "1", F: "0", U: ""}


def _kleene_and(a: Truth, b: Truth) -> Truth:
    if F in (a, b):
        return F
    return U if U in (a, b) else T


def _kleene_or(a: Truth, b: Truth) -> Truth:
    if T in (a, b):
        return T
    return U if U in (a, b) else F


@pytest.mark.parametrize(("a", "b"), list(itertools.product([T, F, U], repeat=2)))
def test_kleene_and_or(a: Truth, b: Truth) -> None:
    record = {"x": VALUE_FOR[a], "y": VALUE_FOR[b]}
    assert parse("[x] = '1' and [y] = '1'").truth(record).truth is _kleene_and(a, b)
    assert parse("[x] = '1' or [y] = '1'").truth(record).truth is _kleene_or(a, b)
    assert parse("[x] = '1' AND [y] = '1'").truth(record).truth is _kleene_and(a, b)


@pytest.mark.parametrize(("a", "expected"), [(T, F), (F, T), (U, U)])
def test_kleene_not(a: Truth, expected: Truth) -> None:
    assert parse("not [x] = '1'").truth({"x": VALUE_FOR[a]}).truth is expected
    assert parse("not (not [x] = '1')").truth({"x": VALUE_FOR[a]}).truth is a


@pytest.mark.parametrize(
    ("text", "record", "fields", "reason"),
    [
        ("[age] >= 18", {"age": ""}, ("age",), "[age] is blank"),
        ("[age] >= 18", {}, ("age",), "[age] is blank"),
        ("[age] >= 18", {"age": "abc"}, ("age",), "[age] is not a number: value withheld"),
        ("18 <= [age]", {"age": "x"}, ("age",), "[age] is not a number: value withheld"),
        ("[age] = 18", {"age": "abc"}, ("age",), "[age] is not a number: value withheld"),
        ("[english] = '1'", {"english": ""}, ("english",), "[english] is blank"),
        ("[english] <> '1'", {"english": ""}, ("english",), "[english] is blank"),
        (
            "[a] > 1 and [b] > 1",
            {"a": "", "b": ""},
            ("a", "b"),
            "[a] is blank; [b] is blank",
        ),
        ("[a] > 1 or [a] < 0", {"a": ""}, ("a",), "[a] is blank"),
        ("[a] = [b]", {"a": "1", "b": ""}, ("b",), "[b] is blank"),
        ("[cb(2)] = '1'", {"cb___1": "1"}, ("cb",), "[cb(2)] is blank"),
        ("[a] + [b] > 3", {"a": "2", "b": ""}, ("b",), "[b] is blank"),
        ("-[a] < 0", {"a": "x"}, ("a",), "[a] is not a number: value withheld"),
        ("[a] / 0 > 1", {"a": "1"}, (), "[a] / 0 is not a number: value withheld"),
        ("[a]", {"a": ""}, ("a",), "[a] is blank"),
        ("not [a]", {"a": ""}, ("a",), "[a] is blank"),
        (
            "if([c] = '1', [a], [b]) > 3",
            {"c": "1", "a": "", "b": "5"},
            ("a",),
            "if([c] = '1', [a], [b]) is blank",
        ),
        ("if([c] = '1', 1, 2) = 1", {"c": ""}, ("c",), "[c] is blank"),
        ("contains([a], 'x')", {"a": ""}, ("a",), "[a] is blank"),
        ("round([a]) = 2", {"a": "two"}, ("a",), "[a] is not a number: value withheld"),
        ("sum([a], [b]) > 1", {"a": "", "b": ""}, ("a", "b"), "[a] is blank; [b] is blank"),
        ("sum([a], [b]) > 1", {"a": "3", "b": "x"}, ("b",), "[b] is not a number: value withheld"),
        ("datediff([d], 'today', 'd') > 1", {"d": ""}, ("d",), "[d] is blank"),
        (
            "datediff([d], 'today', 'd') > 1",
            {"d": "2024-02-30"},
            ("d",),
            "[d] is not a date: value withheld",
        ),
    ],
)
def test_unknown_fields_and_reasons(
    text: str, record: dict[str, str], fields: tuple[str, ...], reason: str
) -> None:
    evaluation = parse(text).truth(record)
    assert evaluation == Evaluation(U, fields, reason)
    for value in record.values():
        if value and value not in text:
            assert value not in evaluation.reason  # never the record's values (PHI)


@pytest.mark.parametrize(
    ("text", "record", "truth"),
    [
        # blank tests ask about blankness: never unknown
        ("[x] = ''", {"x": ""}, T),
        ("[x] = ''", {"x": "1"}, F),
        ("[x] <> ''", {"x": ""}, F),
        ("'' = [x]", {}, T),
        ('[x] <> ""', {"x": "a"}, T),
        ("isblankormissingcode([x])", {"x": ""}, T),
        ("isblankormissingcode([x])", {"x": "0"}, F),
        ("isnumber([x])", {"x": ""}, F),
        ("isinteger([x])", {"x": ""}, F),
        ("[x] <> '' and [x] >= 18", {"x": ""}, F),
        ("[x] = '' or [x] >= 18", {"x": ""}, T),
        # FALSE and UNKNOWN is FALSE; TRUE or UNKNOWN is TRUE
        ("[age] >= 18 and [travel] = '1'", {"age": "12", "travel": ""}, F),
        ("[travel] = '1' and [age] >= 18", {"age": "12", "travel": ""}, F),
        ("[age] >= 18 or [travel] = '1'", {"age": "", "travel": "1"}, T),
        # text equality against text is known even for odd answers
        ("[english] = '1'", {"english": "yes"}, F),
        ("[name] > 'M'", {"name": "Zed"}, T),
        # if() with an unknown condition is known when both branches agree
        ("if([c] = '1', 5, 5) = 5", {"c": ""}, T),
        ("if([c] = '1', [a], [b]) = 5", {"c": "", "a": "5", "b": "5.0"}, T),
        ("if([c] = '1', [a], [b]) = 5", {"c": "", "a": "5", "b": "6"}, U),
        ("if([c] = '1', [a], [b]) = 5", {"c": "0", "a": "", "b": "5"}, T),
        # sum ignores blanks as REDCap does
        ("sum([a], [b], [c]) = 3", {"a": "1", "b": "", "c": "2"}, T),
        ("mean([a], [b]) = 4", {"a": "4", "b": ""}, T),
        ("contains([a], '')", {"a": "x"}, T),
        ("true", {}, T),
        ("false", {}, F),
    ],
)
def test_known_answers(text: str, record: dict[str, str], truth: Truth) -> None:
    evaluation = parse(text).truth(record)
    assert evaluation.truth is truth
    if truth is not U:
        assert evaluation.unknown_fields == ()
        assert evaluation.reason == ""


@pytest.mark.parametrize(
    ("text", "record"),
    [
        ("not [a] > 5", {"a": ""}),
        ("[a] <> '1'", {"a": ""}),
        ("[a] <> 5", {}),
    ],
)
def test_where_redcap_and_kleene_differ(text: str, record: dict[str, str]) -> None:
    logic = parse(text)
    assert logic.matches(record) is True  # REDCap's own answer
    assert logic.truth(record).truth is U  # but we can't tell


@pytest.mark.parametrize(
    ("text", "record", "value"),
    [
        ("[a]", {"a": "x"}, "x"),
        ("[a]", {"a": ""}, ""),
        ("[a] + 1", {"a": "2"}, 3.0),
        ("[a] + 1", {"a": ""}, None),
        ("[a] + 1", {"a": "two"}, None),
        ("1 / 0", {}, None),
        ("[a] > 1", {"a": "2"}, True),
        ("[a] > 1", {"a": ""}, None),
        ("sum([a], [b])", {"a": "1", "b": ""}, 1.0),
        ("if([a] = '1', 'yes', 'no')", {"a": "1"}, "yes"),
    ],
)
def test_value(text: str, record: dict[str, str], value: object) -> None:
    assert parse(text).value(record) == value


def test_unknown_fields_are_deduplicated_in_order() -> None:
    evaluation = parse("[b] > 1 and [a] > 1 and [b] < 9").truth({})
    assert evaluation.unknown_fields == ("b", "a")
    assert evaluation.reason == "[b] is blank; [a] is blank"
