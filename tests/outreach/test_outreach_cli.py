"""`recruit invite` / `recruit notify`: options, output and exit codes, in-process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from outreach_support import TOKEN_ENV, body, config_data, outbox, person, records, toml

from recruit_cli.cli.main import run
from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA
from recruit_cli.settings import Settings, Status

S = Status
STATUS, CLAIM = "pipeline_processing_status", "pipeline_email_claim"


@pytest.fixture
def config(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "recruit.toml"
    path.write_text(toml(config_data(tmp_path, url=sb.url)), encoding="utf-8")
    monkeypatch.setenv(TOKEN_ENV, sb.token)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    return path


def test_invite_json_then_record_refusal(
    config: Path, settings: Settings, client: RedcapClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.import_records([person("1", S.ELIGIBLE_ID_ASSIGNED), person("2", S.INELIGIBLE)])
    assert run(["-c", str(config), "invite", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "recruit.result/1" and out["counts"] == {"invited": 1}
    assert out["data"]["transport"] == "outbox"
    assert run(["-c", str(config), "notify"]) == 0
    assert sorted(outbox(settings)) == ["1:invite:1", "2:ineligible:1"]

    assert run(["-c", str(config), "invite", "--record", "1"]) == 2
    err = capsys.readouterr().err
    assert "record 1 was already invited" in err and "--resend" in err
    assert run(["-c", str(config), "invite", "--resend"]) == 2
    assert run(["-c", str(config), "invite", "--to", "not an address"]) == 2


def test_to_sends_a_test_copy_and_changes_nothing(
    config: Path,
    settings: Settings,
    client: RedcapClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client.import_records(
        [person("1", S.ELIGIBLE_ID_ASSIGNED), person("2", S.ELIGIBLE_ID_ASSIGNED)]
    )
    before = records(client)
    assert run(["-c", str(config), "invite", "--record", "2", "--to", "me@lab.example.org"]) == 0
    [(key, message)] = outbox(settings).items()
    assert key.startswith("2:invite:1:test-") and message["To"] == "me@lab.example.org"
    # Issue 14: the copy says it is a test, and the command says where it went.
    assert message["Subject"].startswith("[TEST] ")
    [eml] = settings.email.outbox_dir.glob("2_invite_1*.eml")
    err = capsys.readouterr().err
    assert f"the test copy of the invite message went to me@lab.example.org (outbox: {eml})" in err
    assert "person2@example.org" not in message.as_string()
    assert "3002" in body(message)
    # REDCap is untouched: record 2 still gets its real invitation from the next pass,
    # and the test copy (its own key) is never mistaken for it.
    assert records(client) == before
    assert run(["-c", str(config), "invite"]) == 0
    assert sorted(k for k in outbox(settings) if ":test-" not in k) == ["1:invite:1", "2:invite:1"]
    assert records(client, "2")["2"][STATUS] == S.ELIGIBLE_INVITED


def test_to_without_record_is_refused(config: Path, client: RedcapClient) -> None:
    # A redirected whole pass would mark everyone as invited while nobody got anything.
    client.import_records([person("1", S.ELIGIBLE_ID_ASSIGNED)])
    before = records(client)
    assert run(["-c", str(config), "invite", "--to", "me@lab.example.org"]) == 2
    assert run(["-c", str(config), "notify", "--to", "me@lab.example.org"]) == 2
    assert records(client) == before


def test_preview_prints_the_message_masked_and_changes_nothing(
    config: Path, settings: Settings, client: RedcapClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.import_records(
        [person("1", S.ELIGIBLE_ID_ASSIGNED), person("2", S.SAFETY_REVIEW, qids_12="3")]
    )
    before = records(client)
    assert run(["-c", str(config), "invite", "--preview", "1"]) == 0
    out = capsys.readouterr().out
    assert "To: p***@example.org" in out and "person1" not in out
    assert "Subject: Your research study ID" in out and "3001" in out
    assert run(["-c", str(config), "invite", "--preview", "2"]) == 2
    assert "safety review" in capsys.readouterr().err
    assert records(client) == before and outbox(settings) == {}


def test_preview_as_json_and_to_the_test_recipient(
    config: Path, settings: Settings, client: RedcapClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.import_records([person("1", S.INELIGIBLE)])
    assert run(["-c", str(config), "notify", "--preview", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "recruit.preview/1" and doc["kind"] == "ineligible"
    assert (doc["record_id"], doc["key"], doc["to"]) == ("1", "1:ineligible:1", "p***@example.org")
    assert doc["subject"] and doc["text"]
    me = "me@lab.example.org"
    assert run(["-c", str(config), "notify", "--preview", "1", "--to", me]) == 0
    assert f"To: {me} (test recipient)" in capsys.readouterr().out
    assert run(["-c", str(config), "notify", "--preview", "1", "--dry-run"]) == 2
    assert "--preview cannot be combined" in capsys.readouterr().err
    assert outbox(settings) == {} and records(client, "1")["1"][STATUS] == S.INELIGIBLE


def test_dry_run_prints_the_plan(
    config: Path, settings: Settings, client: RedcapClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.import_records([person("1", S.ELIGIBLE_ID_ASSIGNED)])
    assert run(["-c", str(config), "invite", "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True and out["counts"] == {"invited": 1}
    assert outbox(settings) == {} and records(client, "1")["1"][STATUS] == S.ELIGIBLE_ID_ASSIGNED


def test_timestamps_are_written_in_the_study_time_zone(config: Path, client: RedcapClient) -> None:
    client.import_records([person("1", S.ELIGIBLE_ID_ASSIGNED)])
    assert run(["-c", str(config), "invite"]) == 0
    stamp = records(client, "1")["1"]["pipeline_invitation_sent_timestamp"]
    written = datetime.fromisoformat(stamp)
    assert written.utcoffset() is not None and abs(datetime.now(UTC) - written).seconds < 600


def test_redcap_refusing_the_claim_exits_7_with_its_message_and_sends_nothing(
    config: Path, settings: Settings, client: RedcapClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # The lab gave the claim field a validation: REDCap refuses every claim with a 400 that
    # names no missing field. That is REDCap saying no (7), not a bug in recruit (1); each
    # record is tried on its own first (one refused record would be 5, the rest sent).
    client.import_metadata(
        [
            {**row, "text_validation_type_or_show_slider_number": "integer"}
            if row["field_name"] == CLAIM
            else row
            for row in DEMO_METADATA
        ]
    )
    client.import_records([person(rid, S.ELIGIBLE_ID_ASSIGNED) for rid in ("1", "2")])
    assert run(["-c", str(config), "invite"]) == ExitCode.REFUSED == 7
    err = capsys.readouterr().err
    assert "invite: every record was refused: REDCap refused content=record action=import" in err
    assert "could not be validated" in err  # REDCap's own words
    assert "unexpected" not in err and "person1@" not in err
    assert outbox(settings) == {}
    assert records(client, "1")["1"][STATUS] == S.ELIGIBLE_ID_ASSIGNED
