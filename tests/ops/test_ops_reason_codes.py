"""Text staff type into the reasons field is never counted or shown as a reason.

The reasons field is a notes field in a project staff work in: next to recruit's
``code: text`` lines they leave notes that can name or describe a person, with or without
something that looks like a code. `recruit status` (text and ``--json``) and the weekly
report (HTML, JSON, CSV) show only the configured criteria and recruit's own codes; every
other line counts as ``other``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ops_support import write_study

from recruit_cli.cli.main import run
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.sandbox.demo import DEMO_METADATA

SCREENED = "2026-11-17T10:00:00-08:00"  # in 2026-W47
NOTES = {
    "1": "unevaluable_age: [age] is blank\nCalled Jane Doe at 555-0199, mother says depressed",
    "2": "safety: matched the safety rule\njanedoe: left a voicemail, will call back",
    "3": "age: Must be 18 to 65 years old\nsmith_family: dad answered, said no",
    "4": "Jane Doe refused on the phone",
    "5": "",
}
STATUS = {
    "1": "manual_review_required",
    "2": "safety_review",
    "3": "ineligible",
    "4": "ineligible",
    # Staff typed into the status and group fields themselves.
    "5": "called Jane back",
}
GROUP = {"5": "Smith twins"}
TYPED = ("Jane", "janedoe", "555-0199", "smith", "mother", "voicemail", "refused", "twins")


@pytest.fixture
def study(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Sandbox, Path]:
    monkeypatch.delenv("REDCAP_API_TOKEN", raising=False)
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    with run_sandbox(metadata=DEMO_METADATA) as sb:
        rows = [
            {
                "record_id": rid,
                "pipeline_processing_status": STATUS[rid],
                "pipeline_ineligibility_reasons": NOTES[rid],
                "pipeline_screened_timestamp": SCREENED,
                "pipeline_group": GROUP.get(rid, ""),
            }
            for rid in NOTES
        ]
        with RedcapClient(sb.url, sb.token) as client:
            client.import_records(rows)
        yield sb, write_study(tmp_path, sb.url, sb.token)


def _shown(text: str) -> None:
    for typed in TYPED:
        assert typed.lower() not in text.lower(), typed


def test_status_shows_only_known_codes(
    study: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, config = study
    assert run(["-c", str(config), "status", "--json"]) == 0
    out = capsys.readouterr().out
    _shown(out)
    doc = json.loads(out)
    assert [e["codes"] for e in doc["review_queue"]] == [["unevaluable_age", "other"]]
    assert [e["codes"] for e in doc["safety_queue"]] == [["safety", "other"]]
    assert doc["by_status"]["other"] == 1 and doc["by_group"] == {"other": 1}

    assert run(["-c", str(config), "status"]) == 0
    out = capsys.readouterr().out
    assert "unevaluable_age, other" in out and "safety, other" in out
    _shown(out)


@pytest.mark.parametrize("fmt", ["html", "json", "csv"])
def test_the_report_counts_only_known_codes(
    fmt: str, study: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, config = study
    out_dir = config.parent / "out"
    args = ["report", "--week", "2026-W47", "--format", fmt, "--out", str(out_dir), "--json"]
    assert run(["-c", str(config), *args]) == 0
    printed = capsys.readouterr().out
    written = "".join(p.read_text(encoding="utf-8") for p in out_dir.iterdir())
    _shown(printed + written)
    assert "other" in written and "age" in written
    if fmt == "json":
        counted = {r["code"]: r["period"] for r in json.loads(written)["exclusions"]}
        # Record 3: age and a note; record 4: a note only. Both notes count as other.
        assert counted == {"age": 1, "travel": 0, "english": 0, "tms": 0, "other": 2}


def test_screen_moving_an_acknowledged_record_shows_only_its_own_reason(
    study: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    sb, config = study
    with RedcapClient(sb.url, sb.token) as client:
        client.import_records([{"record_id": "2", "pipeline_safety_acknowledged": "1"}])
        assert run(["-c", str(config), "screen", "--json"]) == 0
        kept = client.export_records(records=["2"])[0]
    out = capsys.readouterr().out
    _shown(out)
    (moved,) = [r for r in json.loads(out)["records"] if r["record_id"] == "2"]
    assert moved["action"] == "review" and moved["detail"].startswith("safety_acknowledged:")
    # The note itself stays in REDCap, for staff.
    assert "janedoe: left a voicemail" in kept["pipeline_ineligibility_reasons"]
