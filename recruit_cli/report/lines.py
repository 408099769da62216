"""From suppressed cells to the report's lines: the model objects every format renders.

``metrics`` counts and suppresses; this module only looks cells up (``None`` = suppressed)
and derives what is shown beside them (percent of target, the projected date), never from
a hidden number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from recruit_cli.report.model import (
    EnrollmentLine,
    FlowLine,
    QueueLine,
    Trend,
    TrendSeries,
)

if TYPE_CHECKING:
    from recruit_cli.report.period import Period
    from recruit_cli.settings import Settings

Key = tuple[str, str, str, str]  # (section, metric, group, window)

LABELS = {
    "submitted": "Submitted",
    "screened": "Screened",
    "excluded": "Excluded",
    "manual_review": "Manual review",
    "duplicate": "Held as a duplicate",
    "flagged": "Flagged as suspicious",
    "safety_review": "Safety review",
    "eligible": "Eligible",
    "awaiting_id": "Awaiting study ID",
    "id_assigned": "ID assigned",
    "other_status": "Other status",
    "invited": "Invited",
    "notified": "Notified (ineligible)",
    "booked": "Booked",
}
QUALITY_TEXT = {
    "no_submission_time": "record(s) without a submission time",
    "invited_before_submitted": "record(s) invited before their submission time (left out of "
    "time to invitation)",
    "unparsable_log_timestamp": "REDCap log row(s) with an unreadable time",
    "log_export_refused": "record(s) without a submission time: REDCap refused the log export "
    "(give the API user the Logging right, or set fields.submitted_at)",
}


def flow_lines(
    shown: dict[Key, int | None],
    groups: Sequence[tuple[str, str]],
    has_booked: bool,
    holds: Sequence[str] = (),
) -> tuple[FlowLine, ...]:
    """The flow's lines; ``holds`` are the manual-review lines the study has ("duplicate",
    "flagged"), under manual review."""
    layout: list[tuple[str, str, str, int]] = [
        ("submitted", "", LABELS["submitted"], 0),
        ("screened", "", LABELS["screened"], 0),
        ("excluded", "", LABELS["excluded"], 1),
        ("manual_review", "", LABELS["manual_review"], 1),
        *[(metric, "", LABELS[metric], 2) for metric in holds],
        ("safety_review", "", LABELS["safety_review"], 1),
        ("eligible", "", LABELS["eligible"], 1),
        ("awaiting_id", "", LABELS["awaiting_id"], 2),
        *[("id_assigned", g, f"ID assigned: {label}", 2) for g, label in groups],
        ("other_status", "", LABELS["other_status"], 1),
        ("invited", "", LABELS["invited"], 0),
        ("notified", "", LABELS["notified"], 0),
    ]
    if has_booked:
        layout.append(("booked", "", LABELS["booked"], 0))
    return tuple(
        FlowLine(
            metric,
            label,
            group,
            level,
            shown[("flow", metric, group, "period")],
            shown[("flow", metric, group, "cumulative")],
        )
        for metric, group, label, level in layout
    )


def trend_data(
    shown: dict[Key, int | None], weeks: Sequence[str], groups: Sequence[tuple[str, str]]
) -> Trend:
    specs = [
        ("submitted", "", "Submitted"),
        ("screened", "", "Screened"),
        ("id_assigned", "", "ID assigned (all groups)"),
        *[("id_assigned", g, label) for g, label in groups],
    ]
    return Trend(
        weeks=tuple(weeks),
        series=tuple(
            TrendSeries(
                metric,
                group,
                label,
                tuple(shown[("trend", metric, group, w)] for w in weeks),
                shown[("trend", metric, group, "total")],
            )
            for metric, group, label in specs
        ),
    )


def enrollment(
    settings: Settings, shown: dict[Key, int | None], period: Period, n_weeks: int
) -> tuple[EnrollmentLine, ...]:
    lines = []
    for g in settings.groups:
        enrolled = shown[("flow", "id_assigned", g.name, "cumulative")]
        recent = shown[("trend", "id_assigned", g.name, "total")]
        rate = None if recent is None else round(recent / n_weeks, 2)
        percent = round(100 * enrolled / g.target, 1) if enrolled is not None and g.target else None
        projected = None
        if g.target is None:
            status = "no_target"
        elif enrolled is None or recent is None:
            status, rate = "suppressed", None
        elif enrolled >= g.target:
            status = "reached"
        elif recent == 0:
            status = "no_recent_enrollment"
        else:
            days = math.ceil((g.target - enrolled) * 7 * n_weeks / recent)
            projected = (period.last + timedelta(days=days)).isoformat()
            status = "projected"
        lines.append(
            EnrollmentLine(g.name, g.label, g.target, enrolled, percent, rate, projected, status)
        )
    return tuple(lines)


def queue_lines(
    shown: dict[Key, int | None], ages: dict[str, float | None]
) -> tuple[QueueLine, ...]:
    return (
        QueueLine(
            "manual_review",
            "Manual review",
            shown[("queues", "manual_review_size", "", "now")],
            ages["manual_review"],
        ),
        QueueLine(
            "safety_review",
            "Safety review",
            shown[("queues", "safety_review_size", "", "now")],
            ages["safety_review"],
            unacknowledged=shown[("queues", "safety_review_unacknowledged", "", "now")],
            tracks_ack=True,
        ),
    )


def quality_text(problem: str) -> str:
    if problem in QUALITY_TEXT:
        return QUALITY_TEXT[problem]
    if problem.startswith("unparsable_"):
        return f"record(s) with an unreadable {problem.removeprefix('unparsable_')} time"
    if problem.startswith("submitted_field_missing:"):
        name = problem.partition(":")[2]
        return f"field {name} is not in the export; submission times come from the REDCap log"
    return problem
