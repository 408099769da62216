"""REDCap's two-valued answer, as the sandbox's filterLogic uses it."""

from __future__ import annotations

import pytest

from recruit_cli.logic import parse


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        # numeric when both sides look like numbers
        ("[a] > [b]", {"a": "10", "b": "9"}, True),
        ("[a] > '9'", {"a": "10"}, True),
        ("[a] > 9", {"a": "10"}, True),
        ("[a] = '1.0'", {"a": "1"}, True),
        ("[a] = 1", {"a": " 1 "}, True),
        ("[a] = 1", {"a": "1e0"}, True),
        ("[a] <= -2", {"a": "-2.0"}, True),
        ("[a] < 0.5", {"a": ".25"}, True),
        # text otherwise (case-sensitive, like REDCap's PHP)
        ("[a] < [b]", {"a": "abc", "b": "abd"}, True),
        ("[a] = 'Yes'", {"a": "Yes"}, True),
        ("[a] = 'Yes'", {"a": "yes"}, False),
        ("[a] > '9'", {"a": "x"}, True),
        ("[a] = 1", {"a": "one"}, False),
        ("[a] >= 18", {"a": "abc"}, True),  # REDCap compares "abc" and "18" as text
        ("[a] = '01'", {"a": "1"}, True),
        ("[a] = 'nan'", {"a": "nan"}, True),
        ("[a] = 0", {"a": "nan"}, False),
        # blanks
        ("[a] = ''", {"a": ""}, True),
        ('[a] = ""', {}, True),
        ("[a] <> ''", {"a": ""}, False),
        ("[a] <> ''", {"a": "0"}, True),
        ("[a] < 5", {"a": ""}, False),
        ("[a] > 5", {"a": ""}, False),
        ("[a] <= 5", {}, False),
        ("[a] >= [b]", {"a": "", "b": ""}, False),
        ("5 > [a]", {"a": ""}, False),
        ("[a] = 0", {"a": ""}, False),
        ("[a] <> 5", {"a": ""}, True),
        ("not [a] > 5", {"a": ""}, True),
        ("[a] = ''", {"a": None}, True),
        # != is <>
        ("[a] != '1'", {"a": "2"}, True),
        ("[a] != '1'", {"a": "1"}, False),
        # arithmetic with a blank or a non-number is NaN: never equal, never in order
        ("[a] + 1 > 0", {"a": ""}, False),
        ("[a] + 1 = 1", {"a": ""}, False),
        ("[a] * 2 < 100", {"a": "x"}, False),
        ("[a] + [b] = 5", {"a": "2", "b": "3"}, True),
        ("[a] - [b] = -1", {"a": "2", "b": "3"}, True),
        ("[a] / [b] > 0.6", {"a": "2", "b": "3"}, True),
        ("[a] ^ 2 = 9", {"a": "-3"}, True),
        ("-[a] = 3", {"a": "-3"}, True),
        ("-[a] = 3", {"a": ""}, False),
        ("1 / 0 > 0", {}, False),
        ("1 / 0 < 0", {}, False),
        ("(-8) ^ 0.5 > 0", {}, False),
        ("10 ^ 400 > 0", {}, False),
        # a value on its own: true unless blank, "0", zero or NaN
        ("[a]", {"a": "1"}, True),
        ("[a]", {"a": "yes"}, True),
        ("[a]", {"a": "0"}, False),
        ("[a]", {"a": "0.0"}, False),
        ("[a]", {"a": ""}, False),
        ("[a] and [b]", {"a": "1", "b": "2"}, True),
        ("[a] or [b]", {"a": "", "b": "0"}, False),
        ("1 / 0", {}, False),
        ("([a] = 1) = 1", {"a": "1"}, True),
        ("([a] = 1) = true", {"a": "1"}, True),
        # checkbox options
        ("[cb(1)] = '1'", {"cb___1": "1"}, True),
        ("[cb(1)] = '1'", {"cb___1": "0"}, False),
        ("[cb(1)] = '0'", {"cb___1": "0", "cb___2": "1"}, True),
        ("[cb(-99)] = '1'", {"cb____99": "1"}, True),
        ("[cb(B)] = 1", {"cb___b": "1"}, True),
        ("[cb(1)] = '1' and [cb(2)] = '1'", {"cb___1": "1", "cb___2": "0"}, False),
        ("[cb(1)] = '1' or [cb(2)] = '1'", {"cb___1": "0", "cb___2": "1"}, True),
        # the demo project's rules
        ("[agree_participate] = '1'", {"agree_participate": "1"}, True),
        ("[age] >= 18 and [age] <= 65", {"age": "65"}, True),
        ("[age] >= 18 and [age] <= 65", {"age": "17"}, False),
        ("[age] >= 18 and [age] <= 65", {"age": ""}, False),
        ("[qids_12] >= 2", {"qids_12": "3"}, True),
    ],
)
def test_matches(text: str, record: dict[str, str], expected: bool) -> None:
    assert parse(text).matches(record) is expected


def test_matches_on_many_records_is_stable() -> None:
    logic = parse("[age] >= 18 and [age] <= 65 and [english] = '1'")
    records = [{"age": str(age), "english": str(age % 2)} for age in range(100)]
    chosen = [int(r["age"]) for r in records if logic.matches(r)]
    assert chosen == [age for age in range(18, 66) if age % 2 == 1]
    # repeated (cached) values give the same answers the second time round
    assert [int(r["age"]) for r in records if logic.matches(r)] == chosen


_VALUES = ["", "0", "1", "1.0", " 1 ", "01", "-1", "1e0", "abc", "ABC", "18", "9", "10", "nan"]
_LITERALS = ["''", "'1'", "'1.0'", "'abc'", "1", "1.5", "-1", "'18'", "18", "' 1 '", "'nan'"]


@pytest.mark.parametrize("literal", _LITERALS)
def test_fast_paths_agree_with_the_general_rules(literal: str) -> None:
    # [field] <op> literal compiles to special closures; if(1, literal, 0) does not.
    for op in ("=", "<>", "<", "<=", ">", ">="):
        fast, general = parse(f"[a] {op} {literal}"), parse(f"[a] {op} if(1, {literal}, 0)")
        flipped, flipped_general = (
            parse(f"{literal} {op} [a]"),
            parse(f"if(1, {literal}, 0) {op} [a]"),
        )
        for value in _VALUES:
            record = {"a": value}
            assert fast.matches(record) is general.matches(record), (op, value)
            assert flipped.matches(record) is flipped_general.matches(record), (op, value)
