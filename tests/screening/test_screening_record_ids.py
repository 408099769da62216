"""A record id holding a line break or a tab: refused by position, its safety alert kept.

The sandbox stores such ids as imported (only surrounding whitespace is trimmed, as REDCap
does), so a real `recruit run` meets one in its exports. It must never print the id (a
CR/LF forges a log line), never write to it, never stall the others, and the safety alert
its answers call for must still reach staff, under the record's safe name.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from redcap import Project

from recruit_cli.cli.main import run
from recruit_cli.ops.demo import demo_config_text
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA

FORGED = "recruit: all clear"
BAD_SAFETY = f"7\r\n{FORGED}"  # its answers match the safety rule
BAD_PLAIN = "9\tX"  # an ordinary submission
SUBMISSION = {
    "agree_participate": "1",
    "age": "30",
    "travel": "1",
    "english": "1",
    "tms_contra": "0",
    "qids_score": "3",
    "qids_12": "0",
}


def _key(record_id: str) -> str:
    """The safe name recruit gives a record it can't name (``record_ids.safe_key``)."""
    return "idhash-" + hashlib.sha256(record_id.encode()).hexdigest()[:12]


def _person(rid: str, **fields: str) -> dict[str, str]:
    return {"record_id": rid, **SUBMISSION, "participant_email": "p@example.org", **fields}


# With [duplicates], the screen export is narrowed to ids the identity export named; a
# refused id can't be named, so the pass must fall back to the whole-project export.
DUPLICATES = '\n[duplicates]\nmatch = [["participant_email"]]\n'


@pytest.fixture(params=["", DUPLICATES], ids=["plain", "duplicates"])
def study(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Sandbox, Path]]:
    monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    with run_sandbox(metadata=DEMO_METADATA, unique_field="assigned_study_id") as sb:
        with RedcapClient(sb.url, sb.token) as client:
            client.import_records(
                [_person("8"), _person(BAD_SAFETY, qids_12="3"), _person(BAD_PLAIN)]
            )
        config = tmp_path / "recruit.toml"
        config.write_text(demo_config_text(sb.url) + request.param, encoding="utf-8")
        (tmp_path / ".env").write_text(f"REDCAP_API_TOKEN={sb.token}\n", encoding="utf-8")
        yield sb, config


def _outbox(config: Path) -> dict[str, email.message.EmailMessage]:
    found = {}
    for path in sorted((config.parent / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found[str(message["X-Recruit-Key"])] = message
    return found


def test_a_control_character_in_a_record_id_is_refused_and_its_alert_still_goes_out(
    study: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    sb, config = study
    log = config.parent / "recruit.log"
    key = _key(BAD_SAFETY)

    assert run(["-c", str(config), "--log-file", str(log), "run", "--json"]) == 5

    out, err = capsys.readouterr()
    said = "\n".join([out, err, log.read_text(encoding="utf-8")])
    assert FORGED not in said and "\tX" not in said  # never the id's text
    records = {r["record_id"]: r for r in json.loads(out)["records"] if not r["ok"]}
    assert set(records) == {key, _key(BAD_PLAIN)}
    assert "the record at row" in records[key]["detail"] and "control character" in err
    # The alert: under the safe name, saying where the record is; sent to staff.
    alert = _outbox(config)[f"{key}:safety_alert:1"]
    assert key in str(alert["Subject"])
    text = alert.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert key in text and "row " in text and "control character" in text
    assert FORGED not in alert.as_string()
    # Nothing was written for the refused records, nor to a record their ids trim to; the
    # good one went all the way.
    # Read through PyCap: recruit's own client would leave the refused rows out.
    rows = {r["record_id"]: r for r in Project(sb.url, sb.token).export_records()}
    assert set(rows) == {"8", BAD_SAFETY, BAD_PLAIN}
    for rid in (BAD_SAFETY, BAD_PLAIN):
        assert rows[rid]["pipeline_processing_status"] == "", rid
        assert rows[rid]["pipeline_email_claim"] == "", rid
    assert rows["8"]["pipeline_processing_status"] == "eligible_invited"

    # The next cycle: the same refusal, and no second alert (the outbox can tell).
    assert run(["-c", str(config), "run", "--json"]) == 5
    again = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in again["records"] if r["record_id"] == key] == [
        "refused",
        "skipped",
    ]
    assert len(_outbox(config)) == 2  # record 8's invitation and the one alert


def test_what_makes_a_record_id_unusable() -> None:
    from recruit_cli.redcap.record_ids import problem, safe_key, split_refused

    assert problem("12") is None and problem("ABC-12_x") is None and problem("") is None
    for bad in ("1\n2", "12\r", "1\t2", "1\x1b[2J", "1\u202e2", "1\u20282", "1\x85"):
        assert problem(bad) == "a control character", repr(bad)
    assert problem(" 12") == problem("12 ") == "spaces around it"
    assert safe_key("1\n2") == _key("1\n2") != safe_key("1\n3")
    rows = [{"record_id": "1"}, {"record_id": "2\n"}, {"record_id": "3"}]
    usable, refused = split_refused(rows, "record_id", "content=record")
    assert [r["record_id"] for r in usable] == ["1", "3"]
    assert [(r.position, r.key) for r in refused] == [(2, safe_key("2\n"))]
    assert "2\n" not in refused[0].message and "row 2" in refused[0].message
