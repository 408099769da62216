"""From the PHI-free frame to the report's numbers (pure: no I/O, no clock).

Every count is a cell keyed ``(section, metric, group, window)``; the published relations
between cells are declared as equations so that small-cell suppression can also hide the
cells that would give a suppressed one away (see ``report.suppress``). The flow metrics are
defined once, in ``model.DEFINITIONS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from recruit_cli.reasons import DUPLICATE, OTHER, flag_codes, known_codes
from recruit_cli.report import lines
from recruit_cli.report.model import (
    QualityLine,
    ReasonLine,
    ReportData,
    TimingLine,
)
from recruit_cli.report.period import Period, trend_weeks
from recruit_cli.report.suppress import suppress
from recruit_cli.settings import Status

if TYPE_CHECKING:
    import pandas as pd

    from recruit_cli.report.data import SourceData
    from recruit_cli.settings import Settings

Key = tuple[str, str, str, str]  # (section, metric, group, window)

EXCLUDED = (Status.INELIGIBLE.value, Status.INELIGIBLE_NOTIFIED.value)
ELIGIBLE = (Status.ELIGIBLE.value, Status.ELIGIBLE_ID_ASSIGNED.value, Status.ELIGIBLE_INVITED.value)
OUTCOMES = ("excluded", "manual_review", "safety_review", "eligible", "other_status")
UNKNOWN_GROUP = "(none)"  # ID assigned but the group field is blank or names no group
WINDOWS = ("period", "cumulative")
# A reason line is ``<code>: <text>``; only the code is read (see _reason_codes).
# Cells that are counted (so that suppression protects them) but never published: each is
# the difference of two published ones.
ACKNOWLEDGED: Key = ("queues", "safety_review_acknowledged", "", "now")


def _unpublished(key: Key) -> bool:
    return key == ACKNOWLEDGED or key[1] == "ids_issued_elsewhere"


_CODE = r"^([a-z][a-z0-9_]*)\s*:"
UNSPECIFIED = "unspecified"
UNSPECIFIED_TEXT = "no reason recorded"
OTHER_TEXT = "not a reason code recruit knows (the text recorded in REDCap is not shown)"
OWN_TEXT = "a code recruit writes itself"


def compute(source: SourceData, settings: Settings, period: Period, now: datetime) -> ReportData:
    """Aggregate ``source`` for ``period``; suppress small cells per ``settings.report``.

    The flow counts, per window ("period" = the report's days, "cumulative" = everything
    before the period's end), are those of ``model.DEFINITIONS``: submitted, screened, and
    the screened records by current status (excluded, manual review, of which held as
    duplicates / flagged when the study checks for them, safety review, eligible -> awaiting
    ID / ID assigned per group, other), then invited, notified and, when a booking field is
    configured, booked. Queues are the state at ``now``.
    """
    frame = source.frame
    start, end = _utc(period.start), _utc(period.end)
    windows: dict[str, tuple[pd.Timestamp | None, pd.Timestamp]] = {
        "period": (start, end),
        "cumulative": (None, end),
    }
    status = frame["status"]
    outcome = _outcomes(status)
    groups = _groups(settings, frame, end)
    bucket = frame["group"].where(frame["group"].isin([g for g, _ in groups]), UNKNOWN_GROUP)
    # Two different numbers, named apart: "issued" holds a study ID whatever the status now
    # (what `recruit status` counts: a record moved to review keeps its ID); "assigned" is
    # the flow's eligible-with-ID part. Neither is enrollment (consent), which recruit
    # does not know.
    issued = frame["has_study_id"]
    assigned = (outcome == "eligible") & issued
    cells: dict[Key, int] = {}
    equations: list[tuple[Key, list[Key]]] = []
    reasons = _reasons(frame, outcome == "excluded", end, known_codes(settings))
    codes = _reason_codes(settings, reasons)
    holds = _holds(settings, frame, outcome)

    for window, (lo, hi) in windows.items():
        screened = _within(frame["screened_at"], lo, hi)

        def put(metric: str, value: int, group: str = "", w: str = window) -> Key:
            key: Key = ("flow", metric, group, w)
            cells[key] = int(value)
            return key

        put("submitted", _within(frame["submitted_at"], lo, hi).sum())
        total = put("screened", screened.sum())
        parts = [put(o, (screened & (outcome == o)).sum()) for o in OUTCOMES]
        equations.append((total, parts))
        for metric, held in holds.items():  # parts of manual review that may overlap
            put(metric, (screened & held).sum())
        eligible_key = ("flow", "eligible", "", window)
        id_parts = [put("awaiting_id", (screened & (outcome == "eligible") & ~assigned).sum())]
        per_group = bucket[screened & assigned].value_counts()
        id_parts += [put("id_assigned", per_group.get(g, 0), g) for g, _ in groups]
        equations.append((eligible_key, id_parts))
        for metric, column in (("invited", "invited_at"), ("notified", "notified_at")):
            put(metric, _within(frame[column], lo, hi).sum())
        if source.has_booked:
            put("booked", _within(frame["booked_at"], lo, hi).sum())
        in_window = _within(reasons["screened_at"], lo, hi)
        per_code = reasons.loc[in_window, "code"].value_counts()
        reason_keys: list[Key] = []
        for code, _ in codes:
            key = ("exclusions", code, "", window)
            cells[key] = int(per_code.get(code, 0))
            reason_keys.append(key)
        # Conservative: most excluded records give one reason, so treat them as adding up.
        equations.append((("flow", "excluded", "", window), reason_keys))

    for g, _ in groups:
        before_end = _within(frame["screened_at"], None, end) & issued & (bucket == g)
        issued_key: Key = ("target", "ids_issued", g, "cumulative")
        cells[issued_key] = int(before_end.sum())
        # Counted, never published: "issued - with study ID" would give it away otherwise.
        elsewhere: Key = ("target", "ids_issued_elsewhere", g, "cumulative")
        cells[elsewhere] = cells[issued_key] - cells[("flow", "id_assigned", g, "cumulative")]
        equations.append((issued_key, [("flow", "id_assigned", g, "cumulative"), elsewhere]))

    weeks = _trend(frame, period, groups, bucket, issued, cells, equations)
    timing = _timing(frame, windows, cells)
    queues = _queues(frame, now, cells)
    equations.append(
        (
            ("queues", "safety_review_size", "", "now"),
            [("queues", "safety_review_unacknowledged", "", "now"), ACKNOWLEDGED],
        )
    )
    quality_counts = dict(source.quality)
    quality_counts.update(timing[1])
    for problem, count in sorted(quality_counts.items()):
        cells[("data_quality", problem, "", "all")] = count

    shown = suppress(cells, equations, settings.report.suppress_below)
    return ReportData(
        study=settings.study.name,
        period_label=period.label,
        first_day=period.first.isoformat(),
        last_day=period.last.isoformat(),
        timezone=period.timezone,
        generated_at=now.isoformat(timespec="seconds"),
        suppress_below=settings.report.suppress_below,
        suppressed_cells=sum(1 for k, v in shown.items() if v is None and not _unpublished(k)),
        submitted_source=source.submitted_source,
        has_booked=source.has_booked,
        flow=lines.flow_lines(shown, groups, source.has_booked, tuple(holds)),
        exclusions=tuple(
            ReasonLine(
                code,
                text,
                shown[("exclusions", code, "", "period")],
                shown[("exclusions", code, "", "cumulative")],
            )
            for code, text in codes
        ),
        trend=lines.trend_data(shown, weeks, groups),
        targets=lines.targets(settings, shown, period, len(weeks)),
        timing=tuple(
            TimingLine(w, shown[("time_to_invite", "n", "", w)], *timing[0][w])
            if shown[("time_to_invite", "n", "", w)] is not None
            else TimingLine(w, None, None, None)
            for w in WINDOWS
        ),
        queues=lines.queue_lines(shown, queues),
        quality=tuple(
            QualityLine(p, lines.quality_text(p), shown[("data_quality", p, "", "all")])
            for p in sorted(quality_counts)
        ),
    )


def _utc(moment: datetime) -> pd.Timestamp:
    import pandas as pd

    return pd.Timestamp(moment).tz_convert("UTC")


def _within(times: pd.Series, lo: pd.Timestamp | None, hi: pd.Timestamp) -> pd.Series:
    inside = times < hi  # NaT compares False: a missing time is in no window
    return inside if lo is None else inside & (times >= lo)


def _outcomes(status: pd.Series) -> pd.Series:
    import numpy as np
    import pandas as pd

    choices = [
        status.isin(EXCLUDED),
        status == Status.MANUAL_REVIEW.value,
        status == Status.SAFETY_REVIEW.value,
        status.isin(ELIGIBLE),
    ]
    return pd.Series(np.select(choices, list(OUTCOMES[:4]), "other_status"), index=status.index)


def _holds(settings: Settings, frame: pd.DataFrame, outcome: pd.Series) -> dict[str, pd.Series]:
    """Manual-review records held as a duplicate, and by a flag, by their reason codes;
    only the holds this study checks for."""
    review = outcome == "manual_review"
    out: dict[str, pd.Series] = {}
    if settings.duplicates.match:
        out["duplicate"] = review & _has_code(frame["reasons"], {DUPLICATE})
    flags = flag_codes(settings)
    if flags:
        out["flagged"] = review & _has_code(frame["reasons"], flags)
    return out


def _has_code(reasons: pd.Series, codes: Iterable[str]) -> pd.Series:
    """Whether a reasons field has a line with one of ``codes``."""
    alternatives = "|".join(re.escape(c) for c in sorted(codes))
    return reasons.str.contains(rf"(?m)^\s*(?:{alternatives})\s*:", regex=True)


def _groups(settings: Settings, frame: pd.DataFrame, end: pd.Timestamp) -> list[tuple[str, str]]:
    """Configured groups, plus "(none)" when a record holding a study ID names no
    configured group."""
    groups = [(g.name, g.label) for g in settings.groups]
    names = {g for g, _ in groups}
    stray = (
        frame["has_study_id"]
        & ~frame["group"].isin(names)
        & _within(frame["screened_at"], None, end)
    )
    if stray.any():
        groups.append((UNKNOWN_GROUP, "No or unknown group"))
    return groups


def _reasons(
    frame: pd.DataFrame, excluded: pd.Series, end: pd.Timestamp, known: frozenset[str]
) -> pd.DataFrame:
    """One row per (excluded record, reason code), with the record's screened time.

    Only codes recruit knows (``recruit_cli.reasons``) are kept; any other line of the
    field counts as ``other`` (staff notes, an older script's text).
    """
    import pandas as pd

    rows = frame.loc[
        excluded & _within(frame["screened_at"], None, end), ["reasons", "screened_at"]
    ]
    lines = rows["reasons"].str.split("\n").explode().fillna("").str.strip()
    found = lines.str.extract(_CODE, expand=False)
    codes = found.where(found.isin(list(known)), OTHER).where(lines != "", "")
    table = pd.DataFrame({"row": lines.index, "code": codes.to_numpy()})
    has_code = (table["code"] != "").groupby(table["row"]).transform("any")
    # A blank line is dropped, but a record with no reason at all still counts as unspecified.
    table.loc[~has_code.astype(bool), "code"] = UNSPECIFIED
    table = table[table["code"] != ""].drop_duplicates(["row", "code"])
    table["screened_at"] = rows["screened_at"].reindex(table["row"]).to_numpy()
    return table


def _reason_codes(settings: Settings, reasons: pd.DataFrame) -> list[tuple[str, str]]:
    """(code, readable text): configured criteria first, in order, then the other codes seen.

    The readable text always comes from recruit, never from REDCap: the reasons field is a
    notes field that staff (or older scripts) can type into, so its wording may name or
    describe a person. Only codes recruit knows are counted under their own name; every
    other line counts as ``other`` (``_reasons``), with a fixed text.
    """
    criteria = {c.name: c.reason for c in settings.screening.criteria}
    codes = list(criteria.items())
    seen = set(reasons["code"].astype(str)) - set(criteria)
    codes += [(code, OWN_TEXT) for code in sorted(seen - {OTHER, UNSPECIFIED})]
    codes += [
        (c, t) for c, t in ((OTHER, OTHER_TEXT), (UNSPECIFIED, UNSPECIFIED_TEXT)) if c in seen
    ]
    return codes


def _trend(
    frame: pd.DataFrame,
    period: Period,
    groups: Sequence[tuple[str, str]],
    bucket: pd.Series,
    issued: pd.Series,
    cells: dict[Key, int],
    equations: list[tuple[Key, list[Key]]],
) -> list[str]:
    """Weekly counts for the trend weeks (the last one cut at the period's end): submitted,
    screened, and study IDs issued (by the week of screening, whatever the status now)."""
    import pandas as pd

    weeks = trend_weeks(period)
    labels = [w.label for w in weeks]
    edges = [_utc(w.start) for w in weeks] + [min(_utc(weeks[-1].end), _utc(period.end))]

    def week_of(times: pd.Series) -> pd.Series:
        return pd.cut(times, bins=pd.DatetimeIndex(edges), right=False, labels=False)

    screened_week = week_of(frame["screened_at"])
    series: dict[tuple[str, str], pd.Series] = {
        ("submitted", ""): week_of(frame["submitted_at"]),
        ("screened", ""): screened_week,
        ("ids_issued", ""): screened_week[issued],
    }
    for g, _ in groups:
        series[("ids_issued", g)] = screened_week[issued & (bucket == g)]
    for (metric, group), weeks_of in series.items():
        counts = weeks_of.value_counts()
        keys: list[Key] = []
        for i, label in enumerate(labels):
            key = ("trend", metric, group, label)
            cells[key] = int(counts.get(float(i), 0))
            keys.append(key)
        total: Key = ("trend", metric, group, "total")
        cells[total] = sum(cells[k] for k in keys)
        equations.append((total, keys))
    for w in [*labels, "total"]:
        equations.append(
            (("trend", "ids_issued", "", w), [("trend", "ids_issued", g, w) for g, _ in groups])
        )
    if period.is_week:  # the period's week is also the trend's last week: one number, twice
        last = labels[-1]
        for metric, group in (("submitted", ""), ("screened", "")):
            equations.append((("flow", metric, group, "period"), [("trend", metric, group, last)]))
    return labels


def _timing(
    frame: pd.DataFrame,
    windows: dict[str, tuple[pd.Timestamp | None, pd.Timestamp]],
    cells: dict[Key, int],
) -> tuple[dict[str, tuple[float | None, float | None]], dict[str, int]]:
    hours = (frame["invited_at"] - frame["submitted_at"]).dt.total_seconds() / 3600
    negative = hours < 0
    quality: dict[str, int] = {}
    result: dict[str, tuple[float | None, float | None]] = {}
    for window, (lo, hi) in windows.items():
        invited = _within(frame["invited_at"], lo, hi)
        values = hours[invited & hours.notna() & ~negative]
        cells[("time_to_invite", "n", "", window)] = len(values)
        if len(values):
            q = values.quantile([0.5, 0.9])
            result[window] = (round(float(q.iloc[0]), 1), round(float(q.iloc[1]), 1))
        else:
            result[window] = (None, None)
        if window == "cumulative" and int((invited & negative).sum()):
            quality["invited_before_submitted"] = int((invited & negative).sum())
    return result, quality


def _queues(frame: pd.DataFrame, now: datetime, cells: dict[Key, int]) -> dict[str, float | None]:
    """Queue sizes (cells) and the oldest item's age in hours, at ``now``."""
    current = _utc(now)
    ages: dict[str, float | None] = {}
    manual = frame["status"] == Status.MANUAL_REVIEW.value
    safety = frame["status"] == Status.SAFETY_REVIEW.value
    entered = {
        "manual_review": frame["screened_at"].fillna(frame["submitted_at"])[manual],
        "safety_review": frame["safety_alerted_at"]
        .fillna(frame["screened_at"])
        .fillna(frame["submitted_at"])[safety],
    }
    for queue, times in entered.items():
        cells[("queues", f"{queue}_size", "", "now")] = len(times)
        oldest = times.min()
        ages[queue] = (
            None
            if len(times) == 0 or oldest is None or oldest != oldest  # NaT != NaT
            else round(max(0.0, (current - oldest).total_seconds() / 3600), 1)
        )
    cells[("queues", "safety_review_unacknowledged", "", "now")] = int(
        (safety & ~frame["safety_ack"]).sum()
    )
    # Not shown, but "size - not acknowledged" gives it away: counted so suppression can
    # protect it (see _unpublished and the equation in compute).
    cells[ACKNOWLEDGED] = int((safety & frame["safety_ack"]).sum())
    return ages
