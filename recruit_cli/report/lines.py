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
    FlowLine,
    QueueLine,
    TargetLine,
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
    "id_assigned": "With study ID",
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
        *[("id_assigned", g, f"With study ID: {label}", 2) for g, label in groups],
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
        ("ids_issued", "", "Study IDs issued (all groups)"),
        *[("ids_issued", g, f"IDs issued: {label}") for g, label in groups],
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


def targets(
    settings: Settings, shown: dict[Key, int | None], period: Period, n_weeks: int
) -> tuple[TargetLine, ...]:
    """Study IDs issued per group against the group's target, and the pace of the trend
    weeks carried forward."""
    lines = []
    for g in settings.groups:
        issued = shown[("target", "ids_issued", g.name, "cumulative")]
        recent = shown[("trend", "ids_issued", g.name, "total")]
        rate = None if recent is None else round(recent / n_weeks, 2)
        percent = round(100 * issued / g.target, 1) if issued is not None and g.target else None
        projected = None
        if g.target is None:
            status = "no_target"
        elif issued is None or recent is None:
            status, rate = "suppressed", None
        elif issued >= g.target:
            status = "reached"
        elif recent == 0:
            status = "no_recent_ids"
        else:
            days = math.ceil((g.target - issued) * 7 * n_weeks / recent)
            projected = (period.last + timedelta(days=days)).isoformat()
            status = "projected"
        lines.append(
            TargetLine(g.name, g.label, g.target, issued, percent, rate, projected, status)
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
