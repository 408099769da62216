"""Doctor's checks against a project's data dictionary, run on the demo dictionary (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from recruit_cli.config import settings_from_mapping
from recruit_cli.doctor.project import check_project
from recruit_cli.redcap.meta import FieldMeta
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.settings import Settings

METADATA = [FieldMeta.from_row(row) for row in DEMO_METADATA]
INFO = {"secondary_unique_field": "assigned_study_id"}


def settings(tmp_path: Path, require: str) -> Settings:
    data: dict[str, Any] = {
        "state_dir": str(tmp_path / "state"),
        "study": {"name": "S"},
        "redcap": {"url": "http://127.0.0.1:9/api/"},
        "screening": {"criteria": [{"name": "c", "require": require, "reason": "r"}]},
        "groups": [{"name": "ALL", "when": "[age] > 0", "first_id": 1, "last_id": 9}],
    }
    return settings_from_mapping(data, path=tmp_path / "recruit.toml", environ={})


def choices_row(tmp_path: Path, require: str) -> tuple[str, str]:
    s = settings(tmp_path, require)
    checks = {c.name: c for c in check_project(s, dict(s.rules()), METADATA, INFO)}
    return checks["choice codes exist"].state, checks["choice codes exist"].detail


@pytest.mark.parametrize(
    "require",
    [
        "[travel] = '1'",
        "'0' = [travel]",
        "[qids_12] <> 3",
        "[qids_12] = 2.0",  # REDCap compares two numbers as numbers: code 2
        "[travel] = ''",  # blank is no code
        "[age] = '999'",  # a text field has no codes
        "[travel] = '1' or [participant_email] = \"[travel] = '7'\"",  # text in a string
        "# [travel] = '7'\n[travel] = '1'",  # a comment
    ],
)
def test_codes_the_fields_have(tmp_path: Path, require: str) -> None:
    assert choices_row(tmp_path, require) == ("ok", "")


@pytest.mark.parametrize(
    ("require", "says"),
    [
        ("[travel] = '2'", "'2' is not a choice code of travel (1, 0)"),
        ("'2' = [travel]", "'2' is not a choice code of travel"),
        ("[qids_12] != 4", "'4' is not a choice code of qids_12"),
        ("[age] > 1 and ([preferred_language] = 'fr')", "'fr' is not a choice code"),
        ("[qids_12] = -1", "'-1' is not a choice code of qids_12"),
    ],
)
def test_codes_the_fields_lack(tmp_path: Path, require: str, says: str) -> None:
    state, detail = choices_row(tmp_path, require)
    assert state == "fail"
    assert says in detail and "screening.criteria[0].require" in detail


def test_a_project_without_the_intent_field_is_told_to_add_it(tmp_path: Path) -> None:
    # A project set up by an older recruit: the claim protocol's intent field is missing.
    s = settings(tmp_path, "[age] > 0")
    older = [m for m in METADATA if m.field_name != "pipeline_email_intent"]
    checks = {c.name: c for c in check_project(s, dict(s.rules()), older, INFO)}
    assert checks["pipeline fields exist"].state == "fail"
    assert "missing: pipeline_email_intent" in checks["pipeline fields exist"].detail
    assert "recruit setup fields --apply" in checks["pipeline fields exist"].detail


def holds_checks(tmp_path: Path, metadata: list[FieldMeta], **tables: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "state_dir": str(tmp_path / "state"),
        "study": {"name": "S"},
        "redcap": {"url": "http://127.0.0.1:9/api/"},
        "screening": {"criteria": [{"name": "c", "require": "[age] > 0", "reason": "r"}]},
        "groups": [{"name": "ALL", "when": "[age] > 0", "first_id": 1, "last_id": 9}],
        **tables,
    }
    s = settings_from_mapping(data, path=tmp_path / "recruit.toml", environ={})
    return {c.name: c for c in check_project(s, dict(s.rules()), metadata, INFO)}


def test_duplicate_match_fields_and_the_acknowledgement_field_must_exist(tmp_path: Path) -> None:
    match = {"duplicates": {"match": [["participant_email"], ["first_name", "dob"]]}}
    checks = holds_checks(tmp_path, METADATA, **match)
    fields = checks["configured fields exist"]
    assert fields.state == "fail"
    assert "dob (duplicates.match)" in fields.detail
    assert "first_name (duplicates.match)" in fields.detail
    assert checks["pipeline fields exist"].state == "ok"  # the demo has pipeline_duplicate_ok

    without_ack = [m for m in METADATA if m.field_name != "pipeline_duplicate_ok"]
    checks = holds_checks(tmp_path, without_ack, duplicates={"match": [["participant_email"]]})
    assert checks["configured fields exist"].state == "ok"
    assert checks["pipeline fields exist"].state == "fail"
    assert "pipeline_duplicate_ok" in checks["pipeline fields exist"].detail
    # A project that doesn't check duplicates needs no acknowledgement field.
    assert holds_checks(tmp_path, without_ack)["pipeline fields exist"].state == "ok"


def test_a_flag_rule_is_checked_like_any_rule(tmp_path: Path) -> None:
    flag = {"name": "inattentive", "when": "[travel] = '5' or [attention] = '1'", "reason": "r"}
    checks = holds_checks(tmp_path, METADATA, screening={"flags": [flag]})
    assert "attention (screening.flags[0].when)" in checks["configured fields exist"].detail
    assert "'5' is not a choice code of travel" in checks["choice codes exist"].detail
