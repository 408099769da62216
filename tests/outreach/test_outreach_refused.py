"""REDCap refusing one record (sandbox fault ``locked=ID``) blocks no one else's e-mail.

Every outreach write goes through the one write path, which bisects a refused import down
to the record at fault: the others are claimed, sent and marked; the refused record is
reported with REDCap's reason; the run exits 5 after doing everything else, on every cron
cycle until someone unlocks the record, and it is then sent once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from outreach_support import TOKEN_ENV, config_data, outbox, person, records, toml

from recruit_cli.cli.main import run
from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox
from recruit_cli.settings import Settings, Status

S = Status
LOCKED = "The following records are locked and cannot be modified"


@pytest.fixture
def config(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "recruit.toml"
    path.write_text(toml(config_data(tmp_path, url=sb.url)), encoding="utf-8")
    monkeypatch.setenv(TOKEN_ENV, sb.token)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    return path


def cycle(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, dict[str, str]]]:
    """One `recruit run --json`: its exit code and each record's last action."""
    code = run(["-c", str(config), "run", "--json"])
    doc = json.loads(capsys.readouterr().out)
    return code, {str(r["record_id"]): r for r in doc["records"]}


def test_one_refused_record_is_reported_and_everyone_else_gets_their_mail(
    sb: Sandbox,
    config: Path,
    settings: Settings,
    client: RedcapClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client.import_records(
        [person(str(i), S.ELIGIBLE_ID_ASSIGNED) for i in range(1, 6)]
        + [person("6", S.INELIGIBLE), person("7", S.INELIGIBLE)]
        + [person(rid, S.SAFETY_REVIEW, qids_12="3") for rid in ("8", "9")]
    )
    sb.set_faults("locked=3,locked=8")
    everyone_else = [
        *(f"{i}:invite:1" for i in (1, 2, 4, 5)),
        "6:ineligible:1",
        "7:ineligible:1",
        "9:safety_alert:1",
    ]
    for _ in range(2):  # every cron cycle until the records are unlocked
        code, acts = cycle(config, capsys)
        assert code == ExitCode.PARTIAL
        for rid in ("3", "8"):
            assert acts[rid]["ok"] is False and acts[rid]["action"] == "failed"
            assert LOCKED in acts[rid]["detail"] and "not sent" in acts[rid]["detail"]
        assert sorted(outbox(settings)) == sorted(everyone_else)
    held = records(client)
    assert [held[str(i)]["pipeline_processing_status"] for i in range(1, 8)] == [
        S.ELIGIBLE_INVITED,
        S.ELIGIBLE_INVITED,
        S.ELIGIBLE_ID_ASSIGNED,
        S.ELIGIBLE_INVITED,
        S.ELIGIBLE_INVITED,
        S.INELIGIBLE_NOTIFIED,
        S.INELIGIBLE_NOTIFIED,
    ]
    assert (
        held["9"]["pipeline_safety_alert_timestamp"]
        and not held["8"]["pipeline_safety_alert_timestamp"]
    )
    first = {key: str(m["Message-ID"]) for key, m in outbox(settings).items()}

    sb.set_faults("")  # someone unlocks them: the next cycle sends theirs, once
    code, acts = cycle(config, capsys)
    assert code == ExitCode.OK
    assert acts["3"]["action"] == "invited" and acts["8"]["action"] == "alerted"
    after = {key: str(m["Message-ID"]) for key, m in outbox(settings).items()}
    assert sorted(after) == sorted([*everyone_else, "3:invite:1", "8:safety_alert:1"])
    assert {k: after[k] for k in first} == first  # nobody got a second message
