"""Hand-made fixtures for the report tests: settings and a 20-record project with known counts.

The study is in Europe/Berlin (UTC+1 in November); the report week is 2026-W47, Monday
2026-11-16 00:00+01:00 to Monday 2026-11-23 00:00+01:00. The expected numbers in the tests
were worked out by hand from the table below, not by running the code.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from recruit_cli.logic import parse
from recruit_cli.settings import (
    Criterion,
    FieldMap,
    Group,
    RedcapSettings,
    ReportSettings,
    ScreeningSettings,
    Settings,
    StudySettings,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PLANTED_EMAIL = "planted.person.xq7@example.org"
PLANTED_NAME = "Zebediah Quillfeather"
PLANTED_ID_PREFIX = "R-PLANTED-"

FIELDS = FieldMap(submitted_at="survey_ts", booked_at="booking_date")


def make_settings(*, suppress_below: int = 0, timezone: str = "Europe/Berlin") -> Settings:
    return Settings(
        path=None,
        study=StudySettings(name="Planted Study", timezone=timezone),
        redcap=RedcapSettings(url="http://127.0.0.1:1/api/"),
        fields=FIELDS,
        screening=ScreeningSettings(
            criteria=(
                Criterion("age", parse("[age] >= 18"), "Must be 18 to 65 years old"),
                Criterion("travel", parse("[travel] = '1'"), "Must be able to travel to the lab"),
                Criterion("english", parse("[english] = '1'"), "Must be fluent in English"),
                Criterion("tms", parse("[tms_contra] = '0'"), "Has a TMS contraindication"),
            )
        ),
        groups=(
            Group("HC", "Healthy control", parse("[qids_total] <= 5"), 3000, 10199, target=10),
            Group("MDD", "Depression", parse("[qids_total] >= 11"), 10200, 20000, target=3),
        ),
        report=ReportSettings(suppress_below=suppress_below),
    )


def row(n: int, **values: str) -> dict[str, str]:
    """One exported record: every field blank unless given, plus planted identifiers."""
    f = FIELDS
    names = {
        "status": f.status,
        "reasons": f.reasons,
        "group": f.group,
        "study_id": f.study_id,
        "sub": "survey_ts",
        "scr": f.screened_at,
        "inv": f.invited_at,
        "notif": f.notified_at,
        "alert": f.safety_alerted_at,
        "ack": f.safety_ack,
        "booked": "booking_date",
    }
    out = {name: "" for name in names.values()}
    out[f.record_id] = f"{PLANTED_ID_PREFIX}{n:03d}"
    out[f.email] = PLANTED_EMAIL.replace("xq7", f"xq7.{n}")
    out["participant_name"] = PLANTED_NAME
    for short, value in values.items():
        out[names[short]] = value
    return out


B = "+01:00"  # Berlin in November


def twenty() -> list[dict[str, str]]:
    """The 20-record project (see the module docstring and test_metrics.py for the counts)."""
    return [
        row(
            1,
            status="eligible_invited",
            group="HC",
            study_id="3000",
            sub=f"2026-11-16T10:00:00{B}",
            scr=f"2026-11-16T10:05:00{B}",
            inv=f"2026-11-16T12:00:00{B}",
            booked="2026-11-20",
        ),
        row(
            2,
            status="eligible_invited",
            group="MDD",
            study_id="10200",
            sub="2026-11-17T08:00:00Z",
            scr="2026-11-17T08:10:00Z",
            inv="2026-11-17T18:00:00Z",
            booked="2026-12-01",
        ),
        row(
            3,
            status="eligible_id_assigned",
            group="HC",
            study_id="3001",
            sub="2026-11-17 09:00:00",
            scr=f"2026-11-17T09:30:00{B}",
        ),
        row(
            4,
            status="eligible",
            group="HC",
            sub=f"2026-11-18T09:00:00{B}",
            scr=f"2026-11-18T09:05:00{B}",
        ),
        row(
            5,
            status="ineligible",
            reasons="age: Must be 18 to 65 years old",
            sub=f"2026-11-18T10:00:00{B}",
            scr=f"2026-11-18T10:01:00{B}",
        ),
        row(
            6,
            status="ineligible_notified",
            reasons="age: Must be 18 to 65 years old\ntravel: Must be able to travel to the lab",
            sub=f"2026-11-19T10:00:00{B}",
            scr=f"2026-11-19T10:01:00{B}",
            notif=f"2026-11-19T11:00:00{B}",
        ),
        row(
            7,
            status="manual_review_required",
            reasons="qids_invalid: QIDS total is not a number",
            sub=f"2026-11-20T10:00:00{B}",
            scr=f"2026-11-20T10:00:30{B}",
        ),
        row(
            8,
            status="safety_review",
            sub=f"2026-11-21T10:00:00{B}",
            scr=f"2026-11-21T10:01:00{B}",
            alert=f"2026-11-21T10:02:00{B}",
        ),
        row(9, sub=f"2026-11-21T11:00:00{B}"),
        row(
            10,
            status="eligible_invited",
            group="HC",
            study_id="3002",
            sub=f"2026-11-15T10:00:00{B}",
            scr=f"2026-11-15T10:05:00{B}",
            inv=f"2026-11-16T16:00:00{B}",
        ),
        row(
            11,
            status="ineligible_notified",
            reasons="tms: Has a TMS contraindication",
            sub=f"2026-11-10T10:00:00{B}",
            scr=f"2026-11-10T10:05:00{B}",
            notif=f"2026-11-10T12:00:00{B}",
        ),
        row(
            12,
            status="manual_review_required",
            reasons="between_groups: QIDS between groups",
            sub=f"2026-11-11T10:00:00{B}",
            scr=f"2026-11-11T12:00:00{B}",
        ),
        row(
            13,
            status="eligible_invited",
            group="MDD",
            study_id="10201",
            sub=f"2026-11-03T10:00:00{B}",
            scr=f"2026-11-03T10:05:00{B}",
            inv=f"2026-11-03T14:00:00{B}",
            booked="2026-11-10",
        ),
        row(
            14,
            status="safety_review",
            ack="1",
            sub=f"2026-11-04T10:00:00{B}",
            scr=f"2026-11-04T10:30:00{B}",
        ),
        # After the period in Berlin (but still in the UTC week: 23:30Z on the 22nd).
        row(
            15,
            status="eligible_id_assigned",
            group="HC",
            study_id="3003",
            sub=f"2026-11-23T00:20:00{B}",
            scr=f"2026-11-23T00:30:00{B}",
        ),
        row(
            16,
            status="ineligible",
            reasons="english: Must be fluent in English",
            sub=f"2026-11-22T23:30:00{B}",
            scr=f"2026-11-22T23:45:00{B}",
        ),
        # Submitted on Sunday of W46, screened ten minutes into W47 (23:10Z: W46 in UTC).
        row(
            17,
            status="eligible_invited",
            group="MDD",
            study_id="10202",
            sub=f"2026-11-15T23:30:00{B}",
            scr=f"2026-11-16T00:10:00{B}",
            inv=f"2026-11-16T02:30:00{B}",
        ),
        row(18, status="ineligible", sub="yesterday", scr=f"2026-11-19T12:00:00{B}"),
        row(
            19, status="weird_status", sub=f"2026-11-19T13:00:00{B}", scr=f"2026-11-19T13:05:00{B}"
        ),
        row(
            20,
            status="eligible_invited",
            study_id="3004",
            sub=f"2026-11-18T00:00:00{B}",
            scr=f"2026-11-18T00:30:00{B}",
            inv=f"2026-11-20T00:00:00{B}",
        ),
    ]


def without_submitted_field(settings: Settings) -> Settings:
    return replace(settings, fields=replace(settings.fields, submitted_at=None))
