"""`[[screening.flags]]` and `[duplicates]`: parsed once at load, errors naming key and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_samples import GOOD, TOKEN

from recruit_cli import reasons
from recruit_cli.config import load_settings
from recruit_cli.errors import ConfigError
from recruit_cli.logic import Logic
from recruit_cli.settings import Settings

FLAGS = """
[[screening.flags]]
name = "too_fast"
when = "datediff([started_at], [completed_at], 's') < 120"
reason = "Completed in under 2 minutes"

[[screening.flags]]
name = "attention"
when = "[attention_check] <> '3'"
reason = "Failed the attention check"

[duplicates]
match = [["participant_email"], ["first_name", "dob"]]
"""


def load(tmp_path: Path, text: str) -> Settings:
    config = tmp_path / "recruit.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config, environ={"REDCAP_API_TOKEN": TOKEN, "HOME": "/h"})


def test_flags_and_match_lists_load_as_parsed_rules(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD + FLAGS)
    flags = s.screening.flags
    assert [f.name for f in flags] == ["too_fast", "attention"]
    assert isinstance(flags[0].when, Logic)
    assert flags[0].when.fields == {"started_at", "completed_at"}
    assert s.duplicates.match == (("participant_email",), ("first_name", "dob"))
    assert s.fields.duplicate_ok == "pipeline_duplicate_ok"
    # Every rule of the file, flags included, is what doctor checks against the project.
    keys = [key for key, _ in s.rules()]
    assert "screening.flags[1].when" in keys


def test_flag_names_and_duplicate_are_reason_codes_status_and_the_report_show(
    tmp_path: Path,
) -> None:
    known = reasons.known_codes(load(tmp_path, GOOD + FLAGS))
    assert {"too_fast", "attention", "duplicate"} <= known
    assert reasons.codes("too_fast: x\nduplicate: same dob as record 3", known) == (
        "too_fast",
        "duplicate",
    )


def test_without_the_tables_there_are_no_flags_and_no_duplicate_check(tmp_path: Path) -> None:
    s = load(tmp_path, GOOD)
    assert s.screening.flags == ()
    assert s.duplicates.match == ()


@pytest.mark.parametrize(
    ("old", "new", "key", "says", "line_of"),
    [
        (
            "when = \"datediff([started_at], [completed_at], 's') < 120\"",
            'when = "[started_at] <"',
            "screening.flags[0].when",
            "the rule does not parse",
            'when = "[started_at] <"',
        ),
        ('name = "attention"', 'name = "age"', "screening.flags[1].name", "already", '"age"\nwhen'),
        ('name = "attention"', 'name = "too_fast"', "screening.flags[1].name", "used twice", None),
        ('name = "attention"', 'name = "Bad Name"', "screening.flags[1].name", "lower-case", None),
        (
            'name = "attention"',
            'name = "duplicate"',
            "screening.flags[1].name",
            "recruit's own code",
            None,
        ),
        ('name = "attention"', 'name = "other"', "screening.flags[1].name", "reserved", None),
        ('name = "attention"', 'name = "email_invalid"', "screening.flags[1].name", "own", None),
        (
            'reason = "Failed the attention check"',
            'reason = ""',
            "screening.flags[1].reason",
            "one non-empty line",
            'reason = ""',
        ),
        (
            'match = [["participant_email"], ["first_name", "dob"]]',
            'match = ["participant_email"]',
            "duplicates.match[0]",
            "expected an array of strings, got a string",
            "match =",
        ),
        (
            'match = [["participant_email"], ["first_name", "dob"]]',
            'match = [["participant_email"], []]',
            "duplicates.match[1]",
            "matches nothing",
            "match =",
        ),
        (
            'match = [["participant_email"], ["first_name", "dob"]]',
            'match = [["participant_email"], ["dob", "dob"]]',
            "duplicates.match[1]",
            "listed twice",
            "match =",
        ),
        (
            'match = [["participant_email"], ["first_name", "dob"]]',
            'match = [["participant_email"], ["First Name"]]',
            "duplicates.match[1][0]",
            "not a REDCap field name",
            "match =",
        ),
        (
            'match = [["participant_email"], ["first_name", "dob"]]',
            'match = [["first_name", "dob"], ["dob", "first_name"]]',
            "duplicates.match[1]",
            "the same fields are listed twice",
            "match =",
        ),
    ],
)
def test_a_bad_flag_or_match_list_names_its_key_and_line(
    tmp_path: Path, old: str, new: str, key: str, says: str, line_of: str | None
) -> None:
    text = (GOOD + FLAGS).replace(old, new, 1)
    assert text != GOOD + FLAGS
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert info.value.key == key
    assert says in str(info.value)
    if line_of is not None:
        assert info.value.line == text[: text.index(line_of)].count("\n") + 1
