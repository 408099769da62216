"""The report's numbers: frozen dataclasses of plain values, shared by every output format.

``None`` in a count means *suppressed* (see ``report.suppress``). Every number here is an
aggregate: nothing identifies a person.
"""

from __future__ import annotations

from dataclasses import dataclass

# 2: "enrollment"/"enrolled" became "targets"/"ids_issued" (study IDs issued, whatever
# the status now), and the trend's "id_assigned" series "ids_issued": recruit does not
# know who enrolled (consented), and the old name said it did.
SCHEMA = "recruit.report/2"

# One definition per flow metric, used verbatim by the HTML footnotes, the JSON and the
# docstring of ``metrics.compute`` so the three can never disagree. "In the window" means
# the timestamp falls in [start, end) of the period (or, for the cumulative column, before
# the period's end). Outcomes use each record's *current* status.
DEFINITIONS: dict[str, str] = {
    "submitted": "Records whose submission time is in the window (survey timestamp field, or "
    "the record's creation in the REDCap log).",
    "screened": "Records whose screened timestamp is in the window.",
    "excluded": "Screened in the window and now ineligible (notified or not).",
    "manual_review": "Screened in the window and now waiting for manual review.",
    "duplicate": "Manual review (as above) held as a possible duplicate of an earlier "
    "submission (reason code duplicate).",
    "flagged": "Manual review (as above) held by a suspicious-submission flag "
    "([[screening.flags]]); a record can be both a duplicate and flagged.",
    "safety_review": "Screened in the window and now in safety review.",
    "eligible": "Screened in the window and now eligible (waiting for an ID, ID assigned, or "
    "invited).",
    "awaiting_id": "Eligible (as above) without a study ID yet.",
    "id_assigned": "Eligible (as above) and holding a study ID, by group. A record moved to "
    "review after its ID was issued counts under review here, and still in IDs issued.",
    "ids_issued": "Records holding a study ID of the group, whatever their status now (a "
    "record moved to review keeps its ID): what `recruit status` counts as IDs issued. "
    "Trend: by the week of screening. Not enrollment: recruit does not know who consented.",
    "target": "The group's target in recruit.toml, compared with IDs issued; shown only. "
    "recruit keeps inviting past it. The projection assumes the pace of the trend weeks "
    "continues.",
    "other_status": "Screened in the window with any other status (e.g. reset to pending).",
    "invited": "Records whose invitation timestamp is in the window.",
    "notified": "Records whose ineligibility-notification timestamp is in the window.",
    "booked": "Records whose booking date is in the window.",
    "exclusion_reason": "Excluded records (as above) giving this criterion; a record excluded "
    "for several criteria counts once under each. The reason text is the configuration's: text "
    "typed in REDCap's reasons field is never shown, and a line without a code recruit knows "
    "counts as other.",
    "time_to_invite": "Hours from submission to invitation, for records invited in the window "
    "(median and 90th percentile, linear interpolation).",
    "queue": "Records whose status is manual review / safety review when the report was "
    "made, whatever the period; age of the oldest from when it entered the queue.",
}

# Definitions of flow lines a study may not have: shown only with their line.
OPTIONAL_METRICS = frozenset({"booked", "duplicate", "flagged"})

TITLES: dict[str, str] = {
    "awaiting_id": "Awaiting study ID",
    "id_assigned": "With study ID",
    "ids_issued": "Study IDs issued",
    "exclusion_reason": "Exclusion reasons",
    "time_to_invite": "Time to invitation",
    "queue": "Queues",
}


@dataclass(frozen=True)
class FlowLine:
    metric: str  # a key of DEFINITIONS
    label: str
    group: str  # "" or the group name (id_assigned lines)
    level: int  # indentation in the flow diagram
    period: int | None
    cumulative: int | None


@dataclass(frozen=True)
class ReasonLine:
    code: str
    text: str
    period: int | None
    cumulative: int | None


@dataclass(frozen=True)
class TrendSeries:
    metric: str  # "submitted" | "screened" | "ids_issued"
    group: str  # "" = all groups
    label: str
    values: tuple[int | None, ...]  # one per week in Trend.weeks
    total: int | None  # over all the weeks


@dataclass(frozen=True)
class Trend:
    weeks: tuple[str, ...]  # "2026-W36" .. "2026-W47"
    series: tuple[TrendSeries, ...]


@dataclass(frozen=True)
class TargetLine:
    group: str
    label: str
    target: int | None
    issued: int | None  # study IDs issued (any status now), up to the period's end
    percent: float | None  # of target, 1 decimal
    weekly_rate: float | None  # IDs issued per week over the trend weeks, 2 decimals
    projected: str | None  # ISO date the target is expected, when status == "projected"
    status: str  # "projected" | "reached" | "no_recent_ids" | "no_target" | "suppressed"


@dataclass(frozen=True)
class TimingLine:
    window: str  # "period" | "cumulative"
    n: int | None
    median_hours: float | None
    p90_hours: float | None

    @property
    def median_days(self) -> float | None:
        return None if self.median_hours is None else round(self.median_hours / 24, 2)

    @property
    def p90_days(self) -> float | None:
        return None if self.p90_hours is None else round(self.p90_hours / 24, 2)


@dataclass(frozen=True)
class QueueLine:
    queue: str  # "manual_review" | "safety_review"
    label: str
    size: int | None
    oldest_age_hours: float | None  # None: empty queue, or no entry time known
    unacknowledged: int | None = None  # safety only: staff have not acknowledged
    tracks_ack: bool = False

    @property
    def oldest_age_days(self) -> float | None:
        return None if self.oldest_age_hours is None else round(self.oldest_age_hours / 24, 1)


@dataclass(frozen=True)
class QualityLine:
    problem: str  # e.g. "unparsable_invited_at", "no_submission_time"
    text: str
    records: int | None


@dataclass(frozen=True)
class ReportData:
    study: str
    period_label: str
    first_day: str  # ISO dates, inclusive
    last_day: str
    timezone: str
    generated_at: str  # ISO-8601, the ``now`` the report was built with
    suppress_below: int
    suppressed_cells: int
    submitted_source: str
    has_booked: bool
    flow: tuple[FlowLine, ...]
    exclusions: tuple[ReasonLine, ...]
    trend: Trend
    targets: tuple[TargetLine, ...]
    timing: tuple[TimingLine, ...]
    queues: tuple[QueueLine, ...]
    quality: tuple[QualityLine, ...]

    def definitions(self) -> dict[str, str]:
        """``DEFINITIONS`` without those of flow lines this report does not have."""
        metrics = {x.metric for x in self.flow}
        return {k: v for k, v in DEFINITIONS.items() if k not in OPTIONAL_METRICS or k in metrics}

    def flow_line(self, metric: str, group: str = "") -> FlowLine | None:
        return next((x for x in self.flow if x.metric == metric and x.group == group), None)

    def summary(self) -> list[tuple[str, str]]:
        """A few (label, value) lines for the e-mail body."""

        def show(value: int | None) -> str:
            return "suppressed" if value is None else str(value)

        lines = []
        for metric in ("submitted", "screened", "eligible", "excluded", "invited"):
            line = self.flow_line(metric)
            if line is not None:
                lines.append(
                    (
                        f"{line.label} ({self.period_label})",
                        f"{show(line.period)} (cumulative {show(line.cumulative)})",
                    )
                )
        for e in self.targets:
            target = f" (target {e.target})" if e.target is not None else ""
            lines.append((f"Study IDs issued: {e.label}", f"{show(e.issued)}{target}"))
        for q in self.queues:
            lines.append((f"{q.label} queue", show(q.size)))
        return lines
