"""Lexing, parsing and precedence of the REDCap logic language."""

from __future__ import annotations

import pytest

from recruit_cli.logic import parse
from recruit_cli.logic.lexer import Kind, checkbox_key, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[age]>=18", [(Kind.FIELD, "age"), (Kind.OP, ">="), (Kind.NUMBER, "18")]),
        ("[cb(2)] = '1'", [(Kind.FIELD, "cb"), (Kind.OP, "="), (Kind.STRING, "1")]),
        ("\"a b\" <> ''", [(Kind.STRING, "a b"), (Kind.OP, "<>"), (Kind.STRING, "")]),
        ("'it\"s'", [(Kind.STRING, 'it"s')]),
        ("1.5 != .5", [(Kind.NUMBER, "1.5"), (Kind.OP, "!="), (Kind.NUMBER, ".5")]),
        ("a<=b", [(Kind.NAME, "a"), (Kind.OP, "<="), (Kind.NAME, "b")]),
        ("AND Or nOt", [(Kind.NAME, "and"), (Kind.NAME, "or"), (Kind.NAME, "not")]),
        ("sum(1,2)", [(Kind.NAME, "sum"), (Kind.LPAREN, ""), (Kind.NUMBER, "1")]),
        ("2^3*4/5-6+7", [(Kind.NUMBER, "2"), (Kind.OP, "^"), (Kind.NUMBER, "3")]),
        ("# comment\n[a] = 1", [(Kind.FIELD, "a"), (Kind.OP, "="), (Kind.NUMBER, "1")]),
        ("  // comment\n[a]\n# x", [(Kind.FIELD, "a")]),
    ],
)
def test_tokens(text: str, expected: list[tuple[Kind, str]]) -> None:
    tokens = tokenize(text)
    assert tokens[-1].kind is Kind.END
    assert [(t.kind, t.value) for t in tokens[: len(expected)]] == expected


def test_token_positions_are_zero_based_offsets() -> None:
    tokens = tokenize("[age] >= 18")
    assert [(t.pos, t.text) for t in tokens] == [(0, "[age]"), (6, ">="), (9, "18"), (11, "")]


@pytest.mark.parametrize(
    ("field", "code", "key"),
    [
        ("cb", "1", "cb___1"),
        ("cb", "-1", "cb____1"),
        ("race", "-99", "race____99"),
        ("cb", "A", "cb___a"),
        ("cb", "x_y", "cb___x_y"),
        ("cb", "1.5", "cb___1_5"),
    ],
)
def test_checkbox_keys(field: str, code: str, key: str) -> None:
    assert checkbox_key(field, code) == key
    assert parse(f"[{field}({code})] = '1'").matches({key: "1"})


def test_fields_and_checkbox_refs() -> None:
    logic = parse("[age] >= 18 and ([cb(2)] = '1' or [cb(-1)] = '1') and sum([q1], [q2]) > [age]")
    assert logic.fields == frozenset({"age", "cb", "q1", "q2"})
    assert logic.checkbox_refs == frozenset({("cb", "2"), ("cb", "-1")})
    assert logic.text.startswith("[age] >= 18")


def test_logic_equality_and_repr() -> None:
    assert parse("[a] = 1") == parse("[a] = 1")
    assert parse("[a] = 1") != parse("[a] = 2")
    assert len({parse("[a] = 1"), parse("[a] = 1")}) == 1
    assert repr(parse("[a] = 1")) == "Logic('[a] = 1')"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # and binds tighter than or
        ("1 = 1 or 1 = 2 and 1 = 2", True),
        ("(1 = 1 or 1 = 2) and 1 = 2", False),
        ("1 = 2 and 1 = 2 or 1 = 1", True),
        # not binds looser than comparison, tighter than and
        ("not 1 = 2 and 1 = 1", True),
        ("not (1 = 1 and 1 = 2)", True),
        ("not 1 = 1 or 1 = 1", True),
        ("not not 1 = 1", True),
        # arithmetic
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("10 - 4 - 3", 3.0),
        ("12 / 3 / 2", 2.0),
        ("2 ^ 3 ^ 2", 512.0),
        ("-2 ^ 2", -4.0),
        ("(-2) ^ 2", 4.0),
        ("2 ^ -1", 0.5),
        ("- 3", -3.0),
        ("-(1 + 2)", -3.0),
        ("+4", 4.0),
        ("1 + 2 = 3", True),
        ("2 * 3 > 5 and 1 < 2", True),
        ("((((1))))", 1.0),
        # literals
        ("'x'", "x"),
        ('"x"', "x"),
        ("true", True),
        ("FALSE", False),
        ("3.25", 3.25),
    ],
)
def test_precedence_and_values(text: str, value: object) -> None:
    result = parse(text).value({})
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    "text",
    [
        "[a] = '1' AND [b] = '1'",
        "[a] = '1' And [b] = '1'",
        "[a] = '1' and [b] = '1'",
        "NOT [a] = '0' and [b] = '1'",
        "IF([a] = '1', [b], 0) = '1'",
        "Contains([b], '1') and [a] = '1'",
        "# screening rule\n[a] = '1'\n// and the other\nand [b] = '1'",
        "[a]='1'and[b]='1'",
        "[a] = '1'\n\tand\n[b] = '1'",
    ],
)
def test_case_comments_and_white_space(text: str) -> None:
    logic = parse(text)
    assert logic.matches({"a": "1", "b": "1"})
    assert not logic.matches({"a": "1", "b": "0"})
