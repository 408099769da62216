"""Malformed or unsupported logic: a LogicError naming the 0-based position, never a guess."""

from __future__ import annotations

import random

import pytest

from recruit_cli.errors import LogicError
from recruit_cli.exit_codes import ExitCode
from recruit_cli.logic import Truth, parse


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "logic is empty"),
        ("   \n ", 0, "logic is empty"),
        ("# only a comment", 16, "logic is empty"),
        ("[age", 0, "unclosed '['"),
        ("[age] = 1 and [b", 14, "unclosed '['"),
        ("[age] = 'abc", 8, "unterminated string"),
        ('[age] = "abc', 8, "unterminated string"),
        ("[age] >=", 8, "expected a value"),
        ("[age] >= 18 and", 15, "expected a value"),
        ("[age] >= 18 or ()", 16, "expected a value"),
        ("and [a] = 1", 0, "expected a value"),
        ("foo([a])", 0, "unknown function 'foo'"),
        ("[a] = 1 and bar(2)", 12, "unknown function 'bar'"),
        ("datediff([a], 'today')", 0, "datediff() takes 3 to 5 arguments, got 2"),
        ("abs(1, 2)", 0, "abs() takes 1 argument, got 2"),
        ("if(1, 2)", 0, "if() takes 3 arguments, got 2"),
        ("sum()", 0, "sum() takes at least 1 argument, got 0"),
        ("(([a] = 1)", 0, "unclosed '('"),
        ("([a] = 1", 0, "unclosed '('"),
        ("sum(1", 3, "unclosed '(' of sum()"),
        ("[a] = 1)", 7, "unmatched ')'"),
        ("[a] = = 1", 6, "expected a value"),
        ("[a] == 1", 4, "unsupported operator '=='"),
        ("[a] = 1 && [b] = 2", 8, "unsupported operator '&&'"),
        ("[a] = 1 || [b] = 2", 8, "unsupported operator '||'"),
        ("![a]", 0, "unsupported operator '!'"),
        ("[a] = 1 = 2", 8, "comparisons cannot be chained"),
        ("[a] < [b] < [c]", 10, "comparisons cannot be chained"),
        ("[Age] = 1", 0, "malformed field reference [Age]"),
        ("[] = 1", 0, "malformed field reference"),
        ("[2a] = 1", 0, "malformed field reference"),
        ("[event_1_arm_1][age] = 1", 15, "event or instance references"),
        ("[age][1] = 1", 5, "event or instance references"),
        ("[age:checked] = 1", 0, "smart variables"),
        ("[record-name] = '1'", 0, "smart variables"),
        ("[cb(1] = 1", 0, "malformed checkbox reference"),
        ("[cb()] = 1", 0, "malformed checkbox reference"),
        ("datediff([a], [b], 'w')", 19, "unit must be one of"),
        ("datediff([a], [b], [u])", 19, "unit must be one of"),
        ("datediff([a], [b], 'D')", 19, "unit must be one of"),
        ("datediff([a],[b],'d','xyz')", 21, "date format must be"),
        ("datediff([a],[b],'d',true,'ymd')", 21, "signed flag (true/false) last"),
        ("datediff([a],[b],'d','ymd','mdy')", 27, "5th argument must be true or false"),
        ("age >= 18", 0, "unexpected word 'age': field names go in brackets, like [age]"),
        ("[a] = 1 $", 8, "unexpected character '$'"),
        ("[a] = 1 ; [b] = 2", 8, "unexpected character ';'"),
        ("sum(1,)", 6, "expected a value"),
        ("sum(,1)", 4, "expected a value"),
        ("sum(1 2)", 6, "expected ',' or ')'"),
        ("[a] 1", 4, "expected an operator or the end"),
        ("[a] = 1 [b] = 2", 8, "expected an operator or the end"),
        ("(1 2)", 3, "expected ')' or an operator"),
        ("[a] = 1 and", 11, "found the end of the logic"),
        ("[a] = 1 # trailing comment", 8, "unexpected character '#'"),
    ],
)
def test_errors_name_the_position(text: str, position: int, message: str) -> None:
    with pytest.raises(LogicError) as caught:
        parse(text)
    error = caught.value
    assert error.position == position
    assert message in error.message
    assert f"at position {position}" in str(error)
    assert error.text == text
    assert error.exit_code is ExitCode.CONFIG


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 41 + "1" + ")" * 41, 40),
        ("not " * 41 + "[a]", 160),
        ("- " * 41 + "1", 80),
        ("abs(" * 41 + "1" + ")" * 41, 163),
        (" + ".join(["1"] * 101), 0),
    ],
)
def test_too_deep_nesting_is_an_error_not_a_crash(text: str, position: int) -> None:
    with pytest.raises(LogicError, match="too deeply nested") as caught:
        parse(text)
    assert caught.value.position == position


def test_long_or_lists_are_fine() -> None:
    # filterLogic listing many record ids is a common client idiom.
    text = " or ".join(f"[record_id] = '{i}'" for i in range(2000))
    logic = parse(text)
    assert logic.matches({"record_id": "1999"})
    assert not logic.matches({"record_id": "2000"})
    assert logic.truth({"record_id": "5"}).truth is Truth.TRUE
    assert logic.truth({"record_id": ""}).unknown_fields == ("record_id",)
    nested = "(" * 40 + "[a] = 1" + ")" * 40
    assert parse(nested).matches({"a": "1"})
    assert parse(" and ".join(["[a] = 1"] * 500)).truth({"a": "1"}).truth is Truth.TRUE


_PIECES = [
    "[a]", "[b(1)]", "'x'", '""', "1", "2.5", "-", "+", "*", "/", "^", "=", "<>", "!=", "<",
    ">=", "(", ")", ",", "and", "or", "not", "sum(", "if(", "datediff(", "'d'", "'today'",
    "true", "[", "]", "'", "abs(", "contains(", "&&", "==", "#", "\n", " ",
]  # fmt: skip


def test_random_inputs_parse_or_raise_logic_error_and_never_crash_on_data() -> None:
    rng = random.Random(7)
    records = [{}, {"a": "", "b___1": ""}, {"a": "3", "b___1": "1"}, {"a": "x", "b___1": "0"}]
    parsed = 0
    for _ in range(3000):
        text = " ".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 9)))
        try:
            logic = parse(text)
        except LogicError as error:
            assert error.position is not None and 0 <= error.position <= len(text)
            continue
        parsed += 1
        for record in records:
            assert isinstance(logic.matches(record), bool)
            evaluation = logic.truth(record)
            assert isinstance(evaluation.truth, Truth)
            assert (evaluation.truth is Truth.UNKNOWN) == bool(evaluation.reason)
            logic.value(record)
    assert parsed > 100  # the generator does produce valid logic too
