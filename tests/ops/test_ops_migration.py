"""Migration: a project run by the older pipeline scripts keeps its fields and its data.

The project below is shaped like theirs: hashed-looking screening field names, the four
legacy pipeline fields and a plain `study_id` field, and records in every legacy state
(with the legacy scripts' free-text reasons and naive `datetime.isoformat()` timestamps).
recruit is pointed at it with a [fields] mapping only; nothing in REDCap is renamed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recruit_cli.cli.main import run
from recruit_cli.mail.transports.outbox import eml_name
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.meta import METADATA_COLUMNS
from recruit_cli.sandbox import run_sandbox

AGE = "age_c4982e_ee0b48_0fa205_v2_fdabe5"
QIDS = "qids_total_5b1e2c"
EMAIL = "email_address_7d11"


def _field(name: str, form: str, ftype: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(METADATA_COLUMNS, "")
    row.update(field_name=name, form_name=form, field_type=ftype, field_label=name, **extra)
    return row


LEGACY_METADATA = [
    _field("record_id", "screening", "text"),
    _field("agree_participate", "screening", "yesno"),
    _field(AGE, "screening", "text"),
    _field(QIDS, "screening", "text"),
    _field(EMAIL, "screening", "text"),
    _field("pipeline_processing_status", "pipeline", "text"),
    _field("pipeline_ineligibility_reasons", "pipeline", "notes"),
    _field("pipeline_invitation_sent_timestamp", "pipeline", "text"),
    _field("pipeline_ineligible_notification_sent_timestamp", "pipeline", "text"),
    _field("study_id", "pipeline", "text", text_validation_type_or_show_slider_number="integer"),
]

LEGACY_TS = "2026-10-02T09:15:27.123456"  # what the scripts wrote: naive isoformat()


def _rec(rid: str, age: str, qids: str, **pipeline: str) -> dict[str, str]:
    return {
        "record_id": rid,
        "agree_participate": "1",
        AGE: age,
        QIDS: qids,
        EMAIL: f"legacy{rid}@example.org",
        **pipeline,
    }


LEGACY_RECORDS = [
    _rec(
        "1",
        "30",
        "3",
        pipeline_processing_status="eligible_invited",
        study_id="3000",
        pipeline_invitation_sent_timestamp=LEGACY_TS,
    ),
    _rec(
        "2",
        "15",
        "3",
        pipeline_processing_status="ineligible_notified",
        pipeline_ineligibility_reasons="Age under 18",
        pipeline_ineligible_notification_sent_timestamp=LEGACY_TS,
    ),
    _rec("3", "40", "2", pipeline_processing_status="eligible_id_assigned", study_id="3001"),
    _rec("4", "25", "1", pipeline_processing_status="pending"),
    _rec("5", "33", "4"),  # submitted after the scripts stopped: blank status
    _rec(
        "6",
        "abc",
        "2",
        pipeline_processing_status="manual_review_required",
        pipeline_ineligibility_reasons="Age not numeric - check with participant",
    ),
    _rec("7", "16", "2", pipeline_processing_status="ineligible"),
]

CONFIG = f"""
state_dir = "state"

[study]
name = "Legacy study"
timezone = "America/Los_Angeles"

[redcap]
url = "{{url}}"

[fields]
email = "{EMAIL}"
study_id = "study_id"

[screening]
ready = "[agree_participate] = '1'"

[[screening.criteria]]
name = "age"
require = "[{AGE}] >= 18"
reason = "Must be 18 or older"

[qids]
total = "{QIDS}"

[[groups]]
name = "HC"
label = "Healthy control"
when = "[qids_total] <= 5"
first_id = 3000
last_id = 10199

[email]
transport = "outbox"
sender = "study@example.org"
booking_url = "https://example.org/book"
"""


def _by_id(client: RedcapClient) -> dict[str, dict[str, str]]:
    return {r["record_id"]: r for r in client.export_records()}


def test_a_legacy_project_keeps_its_fields_and_nobody_is_contacted_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with run_sandbox(metadata=LEGACY_METADATA) as sb:
        client = RedcapClient(sb.url, sb.token)
        assert client.import_records(LEGACY_RECORDS) == len(LEGACY_RECORDS)
        config = tmp_path / "recruit.toml"
        config.write_text(CONFIG.replace("{url}", sb.url), encoding="utf-8")
        (tmp_path / ".env").write_text(f"REDCAP_API_TOKEN={sb.token}\n")
        cfg = ["-c", str(config)]

        # doctor names what is missing; setup fields adds only recruit's own fields.
        assert run([*cfg, "doctor"]) != 0
        assert run([*cfg, "setup", "fields", "--apply"]) == 0
        fields = [m.field_name for m in client.export_metadata()]
        assert fields[: len(LEGACY_METADATA)] == [r["field_name"] for r in LEGACY_METADATA]
        assert {"pipeline_group", "pipeline_email_claim"} <= set(fields)
        assert run([*cfg, "doctor"]) == 0
        before = _by_id(client)

        assert run([*cfg, "run"]) == 0
        after = _by_id(client)
        sent = {p.name for p in (tmp_path / "outbox").glob("*.eml")}

        # Records the scripts finished are left exactly as they were, and get no e-mail.
        for rid in ("1", "2", "6"):
            assert after[rid] == before[rid], rid
        assert not any(name.startswith(("1_", "2_", "6_")) for name in sent)

        # The scripts' half-done work is completed in their vocabulary.
        assert after["3"]["pipeline_processing_status"] == "eligible_invited"
        assert after["3"]["study_id"] == "3001"  # the ID it already had
        assert after["7"]["pipeline_processing_status"] == "ineligible_notified"
        for rid in ("4", "5"):
            assert after[rid]["pipeline_processing_status"] == "eligible_invited"
        # New IDs continue after the highest legacy ID, in submission order.
        assert [after["4"]["study_id"], after["5"]["study_id"]] == ["3002", "3003"]
        assert sent == {
            eml_name("3:invite:1"),
            eml_name("4:invite:1"),
            eml_name("5:invite:1"),
            eml_name("7:ineligible:1"),
        }

        # And the next cron cycle has nothing to do.
        assert run([*cfg, "run"]) == 0
        assert _by_id(client) == after

        # status and the report read the legacy records, naive timestamps and free-text
        # reasons included: the IDs the scripts issued count as used.
        capsys.readouterr()
        assert run([*cfg, "status", "--json"]) == 0
        status = json.loads(capsys.readouterr().out)
        assert status["by_status"] == {
            "manual_review_required": 1,
            "eligible_invited": 4,
            "ineligible_notified": 2,
        }
        assert [e["record_id"] for e in status["review_queue"]] == ["6"]
        assert (status["groups"][0]["ids_used"], status["groups"][0]["next_id"]) == (4, 3004)
        legacy_week = ["--week", "2026-W40", "--format", "json", "--json"]
        assert run([*cfg, "report", *legacy_week]) == 0
        summary = json.loads(capsys.readouterr().out)["data"]["summary"]
        assert summary["Invited (2026-W40)"].startswith("1 ")  # record 1, by the scripts
        client.close()
