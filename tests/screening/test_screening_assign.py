"""The assign pass: next ID per group, contiguous, never duplicated, also under races."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence

import pytest
from screening_data import DEMO_CONFIG, SettingsFactory, pipeline_state

from recruit_cli.exit_codes import ExitCode
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.screening.assign import AssignDetails, assign_pass
from recruit_cli.settings import Settings


def eligible(client: RedcapClient, ids: Sequence[int], group: str = "HC", **extra: str) -> None:
    client.import_records(
        [
            {
                "record_id": str(i),
                "pipeline_processing_status": "eligible",
                "pipeline_group": group,
                **extra,
            }
            for i in ids
        ]
    )


def ids_of(client: RedcapClient) -> dict[str, str]:
    return {
        rid: r["assigned_study_id"]
        for rid, r in pipeline_state(client).items()
        if r["assigned_study_id"]
    }


def test_ids_in_submission_order_per_group(sb_settings: Settings, client: RedcapClient) -> None:
    eligible(client, [3, 1, 2], "HC")
    eligible(client, [10, 4], "MDD", do_not_contact="1")
    result = assign_pass(sb_settings, client)
    assert result.exit_code == ExitCode.OK
    assert result.counts == {"assigned": 5}
    state = pipeline_state(client)
    assert {rid: r["assigned_study_id"] for rid, r in state.items()} == {
        "1": "3000",
        "2": "3001",
        "3": "3002",
        "4": "10200",
        "10": "10201",
    }
    assert {r["pipeline_processing_status"] for r in state.values()} == {"eligible_id_assigned"}
    assert state["4"]["do_not_contact"] == "1"  # staff data untouched


def test_submission_order_field(make_settings: SettingsFactory, sb: Sandbox) -> None:
    fields = {**DEMO_CONFIG["fields"], "submitted_at": "booking_date"}
    del fields["booked_at"]
    settings = make_settings(url=sb.url, token=sb.token, fields=fields)
    with RedcapClient.from_settings(settings) as client:
        eligible(client, [1], booking_date="2025-02-02")
        eligible(client, [2], booking_date="2025-01-01")
        assign_pass(settings, client)
        assert ids_of(client) == {"2": "3000", "1": "3001"}


def test_continues_above_the_highest_existing_id(
    sb_settings: Settings, client: RedcapClient
) -> None:
    client.import_records(
        [
            {"record_id": "1", "pipeline_processing_status": "eligible_invited",
             "assigned_study_id": "3007"},
            {"record_id": "2", "pipeline_processing_status": "eligible_id_assigned",
             "assigned_study_id": "10250"},
        ]
    )  # fmt: skip
    eligible(client, [3, 4])
    assign_pass(sb_settings, client)
    assert ids_of(client) == {"1": "3007", "2": "10250", "3": "3008", "4": "3009"}


def test_second_pass_writes_nothing(sb_settings: Settings, client: RedcapClient) -> None:
    eligible(client, range(1, 21))
    assign_pass(sb_settings, client)
    before = client.calls
    second = assign_pass(sb_settings, client)
    assert second.actions == () and second.exit_code == ExitCode.OK
    assert client.calls - before == 2  # project info + one export


def test_record_restriction_and_dry_run(sb_settings: Settings, client: RedcapClient) -> None:
    eligible(client, range(1, 6))
    dry = assign_pass(sb_settings, client, dry_run=True, records=["2", "4"])
    assert [(a.record_id, a.detail) for a in dry.actions] == [("2", "HC 3000"), ("4", "HC 3001")]
    assert ids_of(client) == {}
    assign_pass(sb_settings, client, records=["4"])
    assert ids_of(client) == {"4": "3000"}
    again = assign_pass(sb_settings, client, records=["4", "5", "77"])
    assert [a.record_id for a in again.actions] == ["5"]
    assert [n.split(":")[0] for n in again.notices] == ["record 4", "record 77"]


def test_exhausted_range_names_the_group(make_settings: SettingsFactory, sb: Sandbox) -> None:
    groups = [dict(g) for g in DEMO_CONFIG["groups"]]
    groups[0]["last_id"] = 3001
    settings = make_settings(url=sb.url, token=sb.token, groups=groups)
    with RedcapClient.from_settings(settings) as client:
        eligible(client, [1, 2, 3])
        eligible(client, [4], "MDD")
        result = assign_pass(settings, client)
        assert result.exit_code == ExitCode.CONFIG
        assert any("group HC" in n and "exhausted" in n for n in result.notices)
        assert ids_of(client) == {"1": "3000", "2": "3001", "4": "10200"}
        waiting = [a for a in result.actions if not a.ok]
        assert [(a.record_id, a.detail) for a in waiting] == [
            ("3", "range_exhausted: group HC has no free IDs")
        ]
        assert pipeline_state(client)["3"]["pipeline_processing_status"] == "eligible"


def test_unknown_group_goes_to_review(sb_settings: Settings, client: RedcapClient) -> None:
    eligible(client, [1], "XX")
    result = assign_pass(sb_settings, client)
    row = pipeline_state(client)["1"]
    assert row["pipeline_processing_status"] == "manual_review_required"
    assert row["pipeline_ineligibility_reasons"] == "unknown_group: group XX is not configured"
    assert result.counts == {"review": 1}


def test_duplicate_is_resolved_lower_record_keeps(
    sb_settings: Settings, client: RedcapClient
) -> None:
    # What two racing passes without a unique field can leave behind.
    client.import_records(
        [
            {"record_id": str(i), "pipeline_processing_status": "eligible_id_assigned",
             "assigned_study_id": sid}
            for i, sid in ((1, "3000"), (2, "3001"), (3, "3001"), (4, "3002"))
        ]
    )  # fmt: skip
    result = assign_pass(sb_settings, client)
    assert ids_of(client) == {"1": "3000", "2": "3001", "3": "3003", "4": "3002"}
    assert any("record 2 keeps it" in n for n in result.notices)


def _race(settings: Settings, subsets: Sequence[Sequence[str] | None]) -> list[PassResult]:
    barrier = threading.Barrier(len(subsets))
    results: list[PassResult] = []

    def one(records: Sequence[str] | None) -> None:
        with RedcapClient.from_settings(settings) as client:
            barrier.wait()
            results.append(assign_pass(settings, client, records=records))

    threads = [threading.Thread(target=one, args=(s,)) for s in subsets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.parametrize("unique", [True, False])
def test_concurrent_passes_never_duplicate(unique: bool, make_settings: SettingsFactory) -> None:
    # Two passes on disjoint records (as if each machine saw different new submissions):
    # both read "no IDs yet" (the sandbox delays every answer, widening the window) and plan
    # the same IDs; the unique field or the verification must sort it out.
    with run_sandbox(unique_field="assigned_study_id" if unique else None) as sb:
        settings = make_settings(url=sb.url, token=sb.token)
        with RedcapClient.from_settings(settings) as client:
            eligible(client, range(1, 41))
        sb.set_faults("delay=0.05")
        results = _race(
            settings, [[str(i) for i in range(1, 41, 2)], [str(i) for i in range(2, 41, 2)]]
        )
        sb.set_faults("")
        with RedcapClient.from_settings(settings) as client:
            ids = ids_of(client)
        assert len(ids) == 40
        counts = Counter(ids.values())
        assert max(counts.values()) == 1, "duplicate study IDs"
        assert sorted(int(v) for v in ids.values()) == list(range(3000, 3040))  # contiguous
        assert all(r.exit_code == ExitCode.OK for r in results), [r.notices for r in results]
        # The race really happened: some pass needed a round beyond write + verify.
        assert max(r.detail(AssignDetails).rounds for r in results) > 2
