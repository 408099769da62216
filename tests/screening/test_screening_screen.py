"""The screen pass against the sandbox over real HTTP: what REDCap holds afterwards."""

from __future__ import annotations

from datetime import UTC, datetime

from screening_data import GOOD, pipeline_state

from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.screening.screen import ScreenDetails, screen_pass
from recruit_cli.settings import Settings

NOW = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def put(client: RedcapClient, *rows: dict[str, str]) -> None:
    client.import_records([{**GOOD, **r} for r in rows])


def test_outcomes_are_written_to_pipeline_fields_only(
    sb_settings: Settings, client: RedcapClient
) -> None:
    put(
        client,
        {"record_id": "1", "do_not_contact": "1", "booking_date": "2025-01-02"},
        {"record_id": "2", "age": "17"},
        {"record_id": "3", "qids_score": "8"},
        {"record_id": "4", "qids_score": "15"},
        {"record_id": "5", "qids_12": "3"},
    )
    result = screen_pass(sb_settings, client, now=NOW)
    assert result.exit_code == ExitCode.OK
    state = pipeline_state(client)
    got = {
        rid: (
            r["pipeline_processing_status"],
            r["pipeline_ineligibility_reasons"],
            r["pipeline_group"],
        )
        for rid, r in state.items()
    }
    assert got == {
        "1": ("eligible", "", "HC"),
        "2": ("ineligible", "age: Must be 18-65", ""),
        "3": ("manual_review_required", "between_groups: fits none of the groups (HC, MDD)", ""),
        "4": ("eligible", "", "MDD"),
        "5": ("safety_review", "safety: matched the safety rule", ""),
    }
    assert {r["pipeline_screened_timestamp"] for r in state.values()} == {NOW.isoformat()}
    # staff data and screening answers are untouched
    assert state["1"]["do_not_contact"] == "1"
    assert state["1"]["booking_date"] == "2025-01-02"
    assert state["2"]["age"] == "17"
    assert result.detail(ScreenDetails).safety_flagged == ("5",)
    assert "SAFETY: record 5 needs staff review" in result.notices


def test_second_pass_writes_nothing(sb_settings: Settings, client: RedcapClient) -> None:
    put(client, *({"record_id": str(i), "age": str(10 + i * 5)} for i in range(1, 12)))
    first = screen_pass(sb_settings, client, now=NOW)
    assert len(first.actions) == 11
    log_before = len(client.export_logging(log_type="record"))
    assert log_before >= 22  # 11 creations + 11 screen updates
    before = client.calls
    second = screen_pass(sb_settings, client, now=NOW)
    assert second.actions == ()
    assert client.calls - before == 1  # the export; no import
    assert len(client.export_logging(log_type="record")) == log_before  # no write logged


def test_not_ready_records_are_left_alone(sb_settings: Settings, client: RedcapClient) -> None:
    put(client, {"record_id": "1", "agree_participate": "0"}, {"record_id": "2"})
    client.import_records([{"record_id": "3", "age": "40"}])  # consent blank
    result = screen_pass(sb_settings, client, now=NOW)
    assert [a.record_id for a in result.actions] == ["2"]
    state = pipeline_state(client)
    assert state["1"]["pipeline_processing_status"] == ""
    assert state["3"]["pipeline_screened_timestamp"] == ""


def test_a_not_ready_submission_is_still_checked_for_safety(
    sb_settings: Settings, client: RedcapClient
) -> None:
    # No consent to take part, but thoughts of suicide endorsed: staff must still follow up.
    put(
        client,
        {"record_id": "1", "agree_participate": "0", "qids_12": "3"},
        {"record_id": "2", "agree_participate": "0", "qids_12": "0"},
    )
    client.import_records([{"record_id": "3", "qids_12": "2"}])  # consent blank
    result = screen_pass(sb_settings, client, now=NOW)
    assert sorted(a.record_id for a in result.actions) == ["1", "3"]
    assert result.detail(ScreenDetails).safety_flagged == ("1", "3")
    state = pipeline_state(client)
    for rid in ("1", "3"):
        assert state[rid]["pipeline_processing_status"] == "safety_review"
    # Not ready and no safety concern: untouched, as before.
    assert state["2"]["pipeline_processing_status"] == ""
    assert screen_pass(sb_settings, client, now=NOW).actions == ()


def test_only_pending_records_are_screened(sb_settings: Settings, client: RedcapClient) -> None:
    put(
        client,
        {"record_id": "1", "pipeline_processing_status": "pending", "age": "17"},
        {"record_id": "2", "pipeline_processing_status": "eligible_invited", "age": "17"},
        {"record_id": "3", "pipeline_processing_status": "manual_review_required"},
    )
    screen_pass(sb_settings, client, now=NOW)
    state = pipeline_state(client)
    assert state["1"]["pipeline_processing_status"] == "ineligible"
    assert state["2"]["pipeline_processing_status"] == "eligible_invited"
    assert state["3"]["pipeline_processing_status"] == "manual_review_required"


def test_stale_reasons_are_cleared(sb_settings: Settings, client: RedcapClient) -> None:
    put(client, {"record_id": "1", "pipeline_ineligibility_reasons": "age: old text"})
    screen_pass(sb_settings, client, now=NOW)
    row = pipeline_state(client)["1"]
    assert (row["pipeline_processing_status"], row["pipeline_ineligibility_reasons"]) == (
        "eligible",
        "",
    )


def test_record_restriction(sb_settings: Settings, client: RedcapClient) -> None:
    put(client, *({"record_id": str(i)} for i in range(1, 6)))
    result = screen_pass(sb_settings, client, records=["2", "4"], now=NOW)
    assert [a.record_id for a in result.actions] == ["2", "4"]
    state = pipeline_state(client)
    assert [rid for rid, r in state.items() if r["pipeline_processing_status"]] == ["2", "4"]
    assert result.notices == ()
    again = screen_pass(sb_settings, client, records=["2", "99"], now=NOW)
    assert again.actions == ()  # a done record and a typo: said, not silently skipped
    assert [n.split(":")[0] for n in again.notices] == ["record 2", "record 99"]


def test_dry_run_writes_nothing(sb_settings: Settings, client: RedcapClient) -> None:
    put(client, {"record_id": "1"}, {"record_id": "2", "qids_12": "2"})
    result = screen_pass(sb_settings, client, dry_run=True, now=NOW)
    assert result.dry_run and result.counts == {"eligible": 1, "safety_review": 1}
    assert "SAFETY: record 2 would need staff review" in result.notices
    assert all(r["pipeline_processing_status"] == "" for r in pipeline_state(client).values())


def test_safety_record_stays_until_acknowledged(
    sb_settings: Settings, client: RedcapClient
) -> None:
    put(client, {"record_id": "1", "qids_12": "2"})
    screen_pass(sb_settings, client, now=NOW)
    assert screen_pass(sb_settings, client, now=NOW).actions == ()
    client.import_records([{"record_id": "1", "pipeline_safety_acknowledged": "1"}])
    result = screen_pass(sb_settings, client, now=NOW)
    assert [(a.record_id, a.action) for a in result.actions] == [("1", "review")]
    row = pipeline_state(client)["1"]
    assert row["pipeline_processing_status"] == "manual_review_required"
    assert row["pipeline_ineligibility_reasons"].splitlines() == [
        "safety: matched the safety rule",
        "safety_acknowledged: staff acknowledged the safety alert; decide eligibility manually",
    ]
    assert screen_pass(sb_settings, client, now=NOW).actions == ()


def test_batches_respect_batch_size(make_settings, sb, client: RedcapClient) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(url=sb.url, token=sb.token, redcap={"url": sb.url, "batch_size": 7})
    put(client, *({"record_id": str(i)} for i in range(1, 31)))
    before = client.calls
    result = screen_pass(settings, client, now=NOW)
    assert len(result.actions) == 30
    assert client.calls - before == 1 + 5  # one export, ceil(30/7) imports
