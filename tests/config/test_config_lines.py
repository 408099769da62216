"""Finding the line of a dotted key in TOML text (for error messages)."""

from __future__ import annotations

from recruit_cli.config.lines import LineIndex, dotted

TEXT = '''\
top = 1
[redcap]
url = "x"
"quoted key" = 2
note = """
fake = "inside a multi-line string"
"""
after = 3

[[groups]]
name = "A"

[[groups]]
name = "B"
inline = { a = 1, b = 2 }

[email.smtp]
port = 25

[email]
graph.mode = "app"
'''


def test_dotted() -> None:
    assert dotted(("groups", 1, "first_id")) == "groups[1].first_id"
    assert dotted(("screening", "criteria", 0, "name")) == "screening.criteria[0].name"
    assert dotted(()) == ""


def test_lines() -> None:
    index = LineIndex(TEXT)
    assert index.find(("top",)) == 1
    assert index.find(("redcap",)) == 2
    assert index.find(("redcap", "url")) == 3
    assert index.find(("redcap", "quoted key")) == 4
    assert index.find(("redcap", "fake")) == 2  # inside a string: falls back to the table
    assert index.find(("redcap", "after")) == 8
    assert index.find(("groups", 0, "name")) == 11
    assert index.find(("groups", 1, "name")) == 14
    assert index.find(("groups", 1, "inline", "a")) == 15  # inline table: its key's line
    assert index.find(("groups", 1, "missing")) == 13  # a missing key: its table's header
    assert index.find(("email", "smtp", "port")) == 18
    assert index.find(("email", "graph", "mode")) == 21  # a dotted key
    assert index.find(("nowhere",)) is None
    assert LineIndex("").find(("a",)) is None
