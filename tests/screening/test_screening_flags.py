"""Suspicious submissions: a TRUE flag holds the record for a person; `recruit run` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from holds_support import outbox, project, put, records, recruit_run, sent, status, study

HELD = "manual_review_required"
TOO_FAST = "too_fast: Completed in under 2 minutes"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECRUIT_STATE_DIR", raising=False)
    monkeypatch.delenv("RECRUIT_CONFIG", raising=False)


def timing(rid: str, seconds: int | None, **more: str) -> dict[str, str]:
    """A submission started at 10:00:00 and completed ``seconds`` later (None: blank)."""
    done = "" if seconds is None else f"2025-03-01 10:{seconds // 60:02d}:{seconds % 60:02d}"
    return {
        "record_id": rid,
        "participant_email": f"p{rid}@example.org",
        "started_at": "2025-03-01 10:00:00",
        "completed_at": done,
        **more,
    }


def test_a_true_flag_holds_false_and_unknown_ones_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(
            sb,
            timing("1", 65),  # TRUE: under two minutes
            timing("2", 600),  # FALSE
            timing("3", None),  # unknown (no completion time): the flag does not fire
        )
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["1"]) == (HELD, TOO_FAST, "")
        # No study ID was used up on the flagged record.
        assert status(got["2"]) == ("eligible_invited", "", "3000")
        assert status(got["3"]) == ("eligible_invited", "", "3001")
        assert outbox(tmp_path) == sent("2:invite:1", "3:invite:1")


def test_a_flagged_ineligible_record_is_held_never_made_ineligible(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, timing("1", 30, age="17"), timing("2", 600, age="17"))
        assert recruit_run(config) == 0
        got = records(sb)
        # The flag first, then what screening found, for the person who decides.
        assert status(got["1"]) == (HELD, f"{TOO_FAST}\nage: Must be 18-65", "")
        assert got["1"]["pipeline_ineligible_notification_sent_timestamp"] == ""
        assert got["2"]["pipeline_processing_status"] == "ineligible_notified"
        assert outbox(tmp_path) == sent("2:ineligible:1")


def test_a_flagged_record_matching_the_safety_rule_goes_to_safety_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with project() as sb:
        monkeypatch.setenv("REDCAP_API_TOKEN", sb.token)
        config = study(tmp_path, sb)
        put(sb, timing("1", 30, qids_12="3"), timing("2", 30))
        assert recruit_run(config) == 0
        got = records(sb)
        assert status(got["1"]) == ("safety_review", "safety: matched the safety rule", "")
        assert got["1"]["pipeline_safety_alert_timestamp"] != ""
        assert status(got["2"]) == (HELD, TOO_FAST, "")
        assert outbox(tmp_path) == sent("1:safety_alert:1")
