"""REDCap refusing one record (sandbox fault ``locked=ID``) blocks neither screen nor assign.

The others are written, the refused record is reported with REDCap's own reason, and the
command exits 5 after doing everything else (the staff alerts of `recruit screen` too).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from screening_data import GOOD, pipeline_state, write_config

from recruit_cli.cli.main import run
from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox

LOCKED = "The following records are locked and cannot be modified: 3"


@pytest.fixture
def cfg(sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records([{**GOOD, "record_id": str(i)} for i in range(1, 7)])
        client.import_records([{**GOOD, "record_id": "7", "qids_12": "3"}])
    return str(write_config(tmp_path, sb.url))


def recruit_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object]]:
    code = run(["--config", *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def actions(doc: dict[str, object]) -> dict[str, dict[str, object]]:
    listed = doc["records"]
    assert isinstance(listed, list)
    return {str(a["record_id"]): a for a in listed}


def test_screen_writes_the_others_and_reports_the_refused_record(
    sb: Sandbox, cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb.set_faults("locked=3")
    code, doc = recruit_json(capsys, cfg, "screen")
    assert code == ExitCode.PARTIAL
    refused = actions(doc)["3"]
    assert refused["ok"] is False and LOCKED in str(refused["detail"])
    with RedcapClient(sb.url, sb.token) as client:
        held = pipeline_state(client)
    status = {rid: row["pipeline_processing_status"] for rid, row in held.items()}
    assert status == {
        **dict.fromkeys(["1", "2", "4", "5", "6"], "eligible"),
        "3": "",
        "7": "safety_review",
    }
    # Everything else was done: the safety record's staff alert went out and was recorded.
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1
    assert held["7"]["pipeline_safety_alert_timestamp"]


def test_assign_gives_the_others_their_ids_and_reports_the_refused_record(
    sb: Sandbox, cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert recruit_json(capsys, cfg, "screen")[0] == ExitCode.OK
    sb.set_faults("locked=3")
    code, doc = recruit_json(capsys, cfg, "assign")
    assert code == ExitCode.PARTIAL
    refused = actions(doc)["3"]
    assert refused["ok"] is False and LOCKED in str(refused["detail"])
    with RedcapClient(sb.url, sb.token) as client:
        held = pipeline_state(client)
    ids = {rid: row["assigned_study_id"] for rid, row in held.items() if rid not in ("3", "7")}
    # Each one ID of its own (the refused record's planned ID may be left as a gap).
    assert len(set(ids.values())) == 5 and all(3000 <= int(i) <= 3005 for i in ids.values())
    assert held["3"]["assigned_study_id"] == ""
    assert held["3"]["pipeline_processing_status"] == "eligible"  # waits for the next pass


def test_screen_refused_for_every_record_is_redcap_saying_no(
    sb: Sandbox, cfg: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not one record's problem (a validation or a rights gap on the pipeline fields): each
    # record is still tried on its own, and the command exits 7, not 5.
    sb.set_faults(",".join(f"locked={i}" for i in range(1, 8)))
    code, doc = recruit_json(capsys, cfg, "screen")
    assert code == ExitCode.REFUSED
    assert all(a["ok"] is False and LOCKED[:-2] in str(a["detail"]) for a in actions(doc).values())
