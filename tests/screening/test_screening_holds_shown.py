"""Where coordinators see duplicates and flags: `recruit status` and the report (--json too)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from holds_support import project, put, recruit_run, study
from screening_data import DEMO_CONFIG

from recruit_cli.cli.main import run


def timing(rid: str, seconds: int, email: str) -> dict[str, str]:
    return {
        "record_id": rid,
        "participant_email": email,
        "started_at": "2025-03-01 10:00:00",
        "completed_at": f"2025-03-01 10:{seconds // 60:02d}:{seconds % 60:02d}",
    }


def test_status_and_the_report_count_duplicates_and_flags_without_naming_anyone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(
            sb,
            timing("1", 600, "first@example.org"),
            timing("2", 600, "FIRST@example.org"),  # duplicate of 1
            timing("3", 30, "first@example.org"),  # duplicate of 1, and too fast
            timing("4", 30, "fourth@example.org"),  # too fast
            {**timing("5", 600, "fifth@example.org"), "age": "x"},  # review, neither
        )
        assert recruit_run(config) == 0
        capsys.readouterr()

        assert run(["-c", config, "status", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert [e["record_id"] for e in doc["review_queue"]] == ["2", "3", "4", "5"]
        assert doc["review_holds"] == {
            "duplicates": 2,
            "flagged": 2,
            "by_flag": {"too_fast": 2},
        }
        assert run(["-c", config, "status"]) == 0
        text = capsys.readouterr().out
        assert "held as duplicates: 2; flagged: 2 (too_fast 2)" in text
        assert "first@example.org" not in text.lower()

        today = datetime.now(ZoneInfo(DEMO_CONFIG["study"]["timezone"])).date()
        since, until = today - timedelta(days=1), today
        out = tmp_path / "reports"
        args = ["-c", config, "report", "--since", str(since), "--until", str(until)]
        for fmt in ("json", "html"):
            assert run([*args, "--format", fmt, "--out", str(out)]) == 0, capsys.readouterr()
        report = json.loads((out / f"enrollment-{since}_{until}.json").read_text())
        flow = {x["metric"]: x["cumulative"] for x in report["flow"] if not x["group"]}
        assert (flow["manual_review"], flow["duplicate"], flow["flagged"]) == (4, 2, 2)
        assert "duplicate" in report["definitions"] and "flagged" in report["definitions"]
        html = (out / f"enrollment-{since}_{until}.html").read_text(encoding="utf-8")
        assert "Held as a duplicate" in html and "Flagged as suspicious" in html
        # Aggregates only: neither the reason's record id nor any address is in the report.
        for written in (html, json.dumps(report)):
            assert "as record" not in written and "@example.org" not in written
