"""``Logic.comparisons``: the ``[field] = 'code'`` tests a rule makes, read from its tree."""

from __future__ import annotations

import pytest

from recruit_cli.logic import parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[sex] = '2'", [("sex", "2")]),
        ("'2' = [sex]", [("sex", "2")]),
        ('[sex] <> "2"', [("sex", "2")]),
        ("[sex] != '2'", [("sex", "2")]),
        ("[sex] = 2", [("sex", "2")]),
        ("1 = [consent]", [("consent", "1")]),
        ("[x] = -1", [("x", "-1")]),  # a negative code, as written
        ("[x] = 1.0", [("x", "1.0")]),
        ("[x] = ''", [("x", "")]),
        # in any position of the tree, in source order
        (
            "[a] = '1' and ([b] <> '2' or not [c] = \"3\")",
            [("a", "1"), ("b", "2"), ("c", "3")],
        ),
        ("if([a] = '1', [b], [c]) > 2", [("a", "1")]),
        ("[a] = '1' or [a] = '2'", [("a", "1"), ("a", "2")]),
        # not a code comparison
        ("[age] >= 18", []),
        ("[a] < '2'", []),
        ("[a] = [b]", []),
        ("'1' = '1'", []),
        ("[cb(2)] = '1'", []),  # a checkbox option compares a checked flag
        ("[a] + 1 = 2", []),
        ("sum([a], 1) = 2", []),
        # text inside a string is not logic (a regex over the text would have seen it)
        ("[note] = \"[sex] = '9'\"", [("note", "[sex] = '9'")]),
        ("# [sex] = '9'\n[age] > 1", []),
    ],
)
def test_comparisons(text: str, expected: list[tuple[str, str]]) -> None:
    assert list(parse(text).comparisons()) == expected
