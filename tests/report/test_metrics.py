"""The report's numbers against hand-computed fixtures (see report_support.twenty)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from report_support import FIELDS, NOW, make_settings, row, twenty, without_submitted_field

from recruit_cli.report.data import build_source
from recruit_cli.report.metrics import compute
from recruit_cli.report.model import ReportData
from recruit_cli.report.period import resolve_period


def report(rows: list[dict[str, str]], *, suppress_below: int = 0, **kw: object) -> ReportData:
    settings = make_settings(suppress_below=suppress_below)
    period = resolve_period(settings.study.timezone, week="2026-W47")
    return compute(build_source(settings, rows, kw.get("log")), settings, period, NOW)  # type: ignore[arg-type]


def flow(data: ReportData) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    return {(x.metric, x.group): (x.period, x.cumulative) for x in data.flow}


def test_twenty_record_flow() -> None:
    data = report(twenty())
    assert flow(data) == {
        ("submitted", ""): (12, 18),
        ("screened", ""): (13, 18),
        ("excluded", ""): (4, 5),
        ("manual_review", ""): (1, 2),
        ("safety_review", ""): (1, 2),
        ("eligible", ""): (6, 8),
        ("awaiting_id", ""): (1, 1),
        ("id_assigned", "HC"): (2, 3),
        ("id_assigned", "MDD"): (2, 3),
        ("id_assigned", "(none)"): (1, 1),
        ("other_status", ""): (1, 1),
        ("invited", ""): (5, 6),
        ("notified", ""): (1, 2),
        ("booked", ""): (1, 2),
    }
    assert data.period_label == "2026-W47"
    assert (data.first_day, data.last_day) == ("2026-11-16", "2026-11-22")
    assert data.submitted_source == "field survey_ts"


def test_twenty_record_exclusion_reasons() -> None:
    data = report(twenty())
    reasons = {r.code: (r.text, r.period, r.cumulative) for r in data.exclusions}
    assert reasons == {
        "age": ("Must be 18 to 65 years old", 2, 2),
        "travel": ("Must be able to travel to the lab", 1, 1),
        "english": ("Must be fluent in English", 1, 1),
        "tms": ("Has a TMS contraindication", 0, 1),
        "unspecified": ("no reason recorded", 1, 1),
    }
    # Configured criteria first, in their order; then the others.
    assert [r.code for r in data.exclusions] == ["age", "travel", "english", "tms", "unspecified"]


def test_twenty_record_time_to_invite_percentiles() -> None:
    data = report(twenty())
    period, cumulative = data.timing
    # Period: 2, 3, 10, 30, 48 hours -> median 10; p90 at rank 3.6: 30 + 0.6 * 18 = 40.8.
    assert (period.window, period.n, period.median_hours, period.p90_hours) == (
        "period",
        5,
        10.0,
        40.8,
    )
    # Cumulative adds 4 hours: 2, 3, 4, 10, 30, 48 -> median 7; p90 at rank 4.5: 39.
    assert (cumulative.n, cumulative.median_hours, cumulative.p90_hours) == (6, 7.0, 39.0)
    assert cumulative.median_days == round(7 / 24, 2)


def test_twenty_record_queues() -> None:
    manual, safety = report(twenty()).queues
    assert (manual.size, safety.size, safety.unacknowledged) == (2, 2, 1)
    # Oldest manual review: screened 2026-11-11 11:00Z; now 2026-11-25 12:00Z -> 337 h.
    assert manual.oldest_age_hours == 337.0
    # Oldest safety item has no alert time: screened 2026-11-04 09:30Z -> 506.5 h.
    assert safety.oldest_age_hours == 506.5
    assert safety.oldest_age_days == 21.1


def test_twenty_record_trend_and_projection() -> None:
    data = report(twenty())
    assert data.trend.weeks[0] == "2026-W36" and data.trend.weeks[-1] == "2026-W47"
    series = {(s.metric, s.group): s for s in data.trend.series}
    assert series[("screened", "")].values[-3:] == (2, 3, 13)
    assert series[("submitted", "")].values[-3:] == (2, 4, 12)
    assert series[("ids_issued", "HC")].values[-3:] == (0, 1, 2)
    assert series[("ids_issued", "MDD")].values[-3:] == (1, 0, 2)
    assert series[("ids_issued", "")].values[-3:] == (1, 1, 5)
    assert series[("ids_issued", "")].total == 7
    hc, mdd = data.targets
    # HC: 3 of 10, 3 in 12 weeks = 0.25/week; 7 more take 196 days after 2026-11-22.
    assert (hc.issued, hc.target, hc.percent, hc.weekly_rate) == (3, 10, 30.0, 0.25)
    assert (hc.status, hc.projected) == ("projected", "2027-06-06")
    assert (mdd.issued, mdd.status, mdd.projected) == (3, "reached", None)


def test_quality_notes_count_unparsable_times() -> None:
    data = report(twenty())
    quality = {q.problem: q.records for q in data.quality}
    assert quality == {"unparsable_submitted_at": 1, "no_submission_time": 1}


def test_submission_time_from_the_log_when_no_field() -> None:
    settings = without_submitted_field(make_settings())
    rows = [row(1), row(2), row(3)]
    log = [
        {
            "timestamp": "2026-11-16 00:30",
            "action": "Create survey response R-PLANTED-001",
            "record": "R-PLANTED-001",
        },
        # No record column: the id is read from the action text.
        {"timestamp": "2026-11-15 23:59", "action": "Create record (import) R-PLANTED-002"},
        {"timestamp": "not a time", "action": "Create record R-PLANTED-003"},
    ]
    period = resolve_period(settings.study.timezone, week="2026-W47")
    data = compute(build_source(settings, rows, log), settings, period, NOW)
    # Log times are on the study's wall clock: 00:30 Monday is in W47, 23:59 Sunday is not.
    assert flow(data)[("submitted", "")] == (1, 2)
    assert data.submitted_source == "REDCap log (record creation)"
    assert {q.problem: q.records for q in data.quality} == {
        "unparsable_log_timestamp": 1,
        "no_submission_time": 1,
    }


def test_empty_project() -> None:
    data = report([])
    assert all(x.period == 0 and x.cumulative == 0 for x in data.flow)
    assert all(r.period == 0 and r.cumulative == 0 for r in data.exclusions)
    assert all(v == 0 for s in data.trend.series for v in s.values)
    assert [(t.n, t.median_hours, t.p90_hours) for t in data.timing] == [(0, None, None)] * 2
    assert [(q.size, q.oldest_age_hours) for q in data.queues] == [(0, None), (0, None)]
    assert [e.status for e in data.targets] == ["no_recent_ids"] * 2
    assert data.quality == ()


def test_single_record() -> None:
    one = row(
        1,
        status="eligible_invited",
        group="MDD",
        study_id="10200",
        sub="2026-11-17T08:00:00Z",
        scr="2026-11-17T08:30:00Z",
        inv="2026-11-17T09:30:00Z",
    )
    data = report([one])
    got = {k: v for k, v in flow(data).items() if v != (0, 0)}
    assert got == {
        ("submitted", ""): (1, 1),
        ("screened", ""): (1, 1),
        ("eligible", ""): (1, 1),
        ("id_assigned", "MDD"): (1, 1),
        ("invited", ""): (1, 1),
    }
    assert [(t.n, t.median_hours, t.p90_hours) for t in data.timing] == [(1, 1.5, 1.5)] * 2
    mdd = data.targets[1]
    # 1 of 3, one in 12 weeks: 2 more take ceil(2 * 7 * 12) = 168 days after 2026-11-22.
    assert (mdd.issued, mdd.projected) == (1, "2027-05-09")


def test_unparsable_and_inverted_times_never_crash() -> None:
    bad = row(
        1,
        status="eligible_invited",
        group="HC",
        study_id="1",
        sub="2026-11-18T10:00:00Z",
        scr="2026-13-45T99:00:00Z",
        inv="2026-11-17T10:00:00Z",
    )
    data = report([bad])
    assert {q.problem: q.records for q in data.quality} == {
        "unparsable_screened_at": 1,
        "invited_before_submitted": 1,
    }
    assert data.timing[0].n == 0


def test_suppression_hides_small_cells_and_their_complements() -> None:
    data = report(twenty(), suppress_below=3)
    f = flow(data)
    # screened 13 = excluded 4 + manual 1 + safety 1 + eligible 6 + other 1: the three
    # small outcomes are hidden, nothing more is needed (three hidden cells in the sum).
    assert f[("screened", "")] == (13, 18)
    assert f[("excluded", "")][0] == 4 and f[("eligible", "")][0] == 6
    assert f[("manual_review", "")][0] is None
    assert f[("safety_review", "")][0] is None
    assert f[("other_status", "")][0] is None
    # eligible 6 = awaiting 1 + HC 2 + MDD 2 + none 1: all four small, all hidden.
    assert [
        f[k][0] for k in [("awaiting_id", ""), ("id_assigned", "HC"), ("id_assigned", "MDD")]
    ] == [None] * 3
    assert f[("invited", "")] == (5, 6)
    assert data.suppressed_cells > 0


def test_complementary_suppression_when_one_part_is_small() -> None:
    # 10 screened this week: 9 excluded (reason age), 1 eligible HC. Hiding the 1 alone
    # would leave it as 10 - 9: the excluded count must go too.
    rows = [
        row(
            n,
            status="ineligible",
            reasons="age: Must be 18 to 65 years old",
            sub=f"2026-11-17T0{n}:00:00Z",
            scr=f"2026-11-17T0{n}:30:00Z",
        )
        for n in range(1, 10)
    ]
    rows.append(
        row(
            10,
            status="eligible_id_assigned",
            group="HC",
            study_id="3000",
            sub="2026-11-18T10:00:00Z",
            scr="2026-11-18T10:30:00Z",
        )
    )
    data = report(rows, suppress_below=5)
    f = flow(data)
    assert f[("screened", "")] == (10, 10)
    assert f[("eligible", "")] == (None, None)
    assert f[("excluded", "")] == (None, None)
    # ... and excluded = sum of reasons, so the age count (9) is hidden as well.
    assert {r.code: (r.period, r.cumulative) for r in data.exclusions}["age"] == (None, None)
    # The same HC number appears in the trend's last week: hidden there too.
    hc = next(s for s in data.trend.series if s.group == "HC")
    assert hc.values[-1] is None and hc.total is None
    # Its target line can't be shown, nor projected from hidden numbers.
    assert (data.targets[0].issued, data.targets[0].status) == (None, "suppressed")
    # Zero is never suppressed: nobody is in it.
    assert f[("manual_review", "")] == (0, 0)


def test_suppression_off_by_default_and_deterministic() -> None:
    assert report(twenty()).suppressed_cells == 0
    assert report(twenty(), suppress_below=3) == report(twenty(), suppress_below=3)


@pytest.mark.parametrize("threshold", [0, 1])
def test_threshold_zero_or_one_suppresses_nothing(threshold: int) -> None:
    assert report(twenty(), suppress_below=threshold).suppressed_cells == 0


def test_custom_range_cuts_the_trend_at_the_period_end() -> None:
    settings = make_settings()
    period = resolve_period(settings.study.timezone, since="2026-11-16", until="2026-11-18")
    data = compute(build_source(settings, twenty(), None), settings, period, NOW)
    assert data.period_label == "2026-11-16_2026-11-18"
    screened = next(s for s in data.trend.series if s.metric == "screened")
    # Screened 16th-18th (Berlin): records 1, 2, 3, 4, 5, 17, 20.
    assert screened.values[-1] == 7
    assert flow(data)[("screened", "")] == (7, 12)


def test_now_only_moves_the_queue_ages() -> None:
    later = replace(report(twenty()), generated_at="x")
    settings = make_settings()
    period = resolve_period(settings.study.timezone, week="2026-W47")
    other = compute(
        build_source(settings, twenty(), None), settings, period, datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert other.flow == later.flow and other.trend == later.trend
    assert (
        other.queues[0].oldest_age_hours == 337.0 + 5.5 * 24
    )  # 2026-11-25 12:00 to 2026-12-01 00:00


def test_empty_project_with_times_from_the_log() -> None:
    settings = without_submitted_field(make_settings())
    period = resolve_period(settings.study.timezone, week="2026-W47")
    data = compute(build_source(settings, [], []), settings, period, NOW)
    assert flow(data)[("submitted", "")] == (0, 0)
    assert data.quality == ()


def test_longitudinal_rows_merge_and_repeating_rows_are_ignored() -> None:
    first = row(1, sub="2026-11-17T08:00:00Z")
    first["redcap_event_name"] = "screening_arm_1"
    first["redcap_repeat_instrument"] = ""
    later = {k: "" for k in first} | {
        "record_id": first["record_id"],
        "redcap_event_name": "pipeline_arm_1",
        "pipeline_processing_status": "eligible",
        "pipeline_group": "HC",
        "pipeline_screened_timestamp": "2026-11-17T09:00:00Z",
    }
    repeat = dict(later, redcap_repeat_instrument="visits", pipeline_processing_status="x")
    data = report([first, later, repeat])
    assert flow(data)[("submitted", "")] == (1, 1)
    assert flow(data)[("eligible", "")] == (1, 1)
    assert flow(data)[("other_status", "")] == (0, 0)


def test_acknowledged_safety_reviews_cannot_be_read_off_the_queue() -> None:
    # Six in safety review, one acknowledged: "size - not acknowledged" would publish a 1.
    rows = [
        row(n, status="safety_review", sub="2026-11-17T08:00:00Z", scr="2026-11-17T08:10:00Z")
        for n in range(1, 7)
    ]
    rows[0][FIELDS.safety_ack] = "1"
    shown = {q.queue: q for q in report(rows).queues}["safety_review"]
    assert (shown.size, shown.unacknowledged) == (6, 5)
    hidden = {q.queue: q for q in report(rows, suppress_below=3).queues}["safety_review"]
    assert hidden.size == 6 and hidden.unacknowledged is None
    # With nobody acknowledged there is nothing to protect.
    rows[0][FIELDS.safety_ack] = ""
    clear = {q.queue: q for q in report(rows, suppress_below=3).queues}["safety_review"]
    assert (clear.size, clear.unacknowledged) == (6, 6)
