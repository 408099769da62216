"""Report periods: ISO weeks (or explicit date ranges) in the study's timezone.

A period is a half-open interval ``[start, end)`` of aware datetimes. Its bounds are local
midnights in the study timezone, so "week 47" means Monday 00:00 to the next Monday 00:00
on the study's wall clock, whatever the offset (and across a DST change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from recruit_cli.errors import UsageError
from recruit_cli.settings import time_zone

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
TREND_WEEKS = 12


@dataclass(frozen=True)
class Period:
    """The days a report covers, ``first``..``last`` inclusive, in ``timezone``."""

    first: date
    last: date
    timezone: str

    @property
    def label(self) -> str:
        """``2026-W47`` for a whole ISO week, else ``2026-11-01_2026-11-30``."""
        year, week, weekday = self.first.isocalendar()
        if weekday == 1 and self.last == self.first + timedelta(days=6):
            return f"{year}-W{week:02d}"
        return f"{self.first.isoformat()}_{self.last.isoformat()}"

    @property
    def is_week(self) -> bool:
        return "-W" in self.label

    @property
    def start(self) -> datetime:
        """The first instant of the period (aware, study timezone)."""
        return local_midnight(self.first, self.timezone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (aware, study timezone)."""
        return local_midnight(self.last + timedelta(days=1), self.timezone)


def local_midnight(day: date, timezone: str) -> datetime:
    """Midnight starting ``day`` on the study's wall clock, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=time_zone(timezone))


def week_period(year: int, week: int, timezone: str) -> Period:
    monday = date.fromisocalendar(year, week, 1)
    return Period(monday, monday + timedelta(days=6), timezone)


def parse_week(text: str, timezone: str) -> Period:
    """``2026-W47`` -> that ISO week. Raises UsageError naming the problem."""
    match = _WEEK.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--week: expected an ISO week like 2026-W47, got {text!r}")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return week_period(year, week, timezone)
    except ValueError as exc:
        last = date(year, 12, 28).isocalendar().week  # 28 December is always in the last week
        raise UsageError(f"--week: {year} has ISO weeks 01 to {last}, not {week:02d}") from exc


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageError(f"{option}: expected a date like 2026-11-16, got {text!r}") from exc


def last_complete_week(now: datetime, timezone: str) -> Period:
    """The ISO week before the one ``now`` falls in, on the study's wall clock."""
    today = now.astimezone(time_zone(timezone)).date()
    monday = today - timedelta(days=today.weekday())
    previous = monday - timedelta(days=7)
    return Period(previous, previous + timedelta(days=6), timezone)


def resolve_period(
    timezone: str,
    *,
    week: str | None = None,
    since: str | date | None = None,
    until: str | date | None = None,
    now: datetime | None = None,
) -> Period:
    """The period a report covers: ``week``, or ``since``..``until`` (inclusive), or by
    default the last complete ISO week before ``now``.

    Raises:
        UsageError: bad or contradictory options, with the option named.
    """
    zone = time_zone(timezone)
    if week is not None and (since is not None or until is not None):
        raise UsageError("use either --week or --since/--until, not both")
    now = now or datetime.now(UTC)
    if week is not None:
        period = parse_week(week, timezone)
    elif since is None and until is None:
        return last_complete_week(now, timezone)
    else:
        # Each date given is read first: a typo is named as such, not as a missing option.
        first = _day(since, "--since")
        last = _day(until, "--until")
        if first is None or last is None:
            missing = "--since" if first is None else "--until"
            raise UsageError(f"{missing} is needed too: give both --since and --until")
        if last < first:
            raise UsageError(f"--until {last.isoformat()} is before --since {first.isoformat()}")
        period = Period(first, last, timezone)
    today = now.astimezone(zone).date()
    if period.first > today:
        # A report of days to come would be empty, and look like a real (bad) week.
        option = "--week" if week is not None else "--since"
        raise UsageError(
            f"{option}: {period.label} has not started yet (today is {today.isoformat()} "
            f"in {timezone})"
        )
    return period


def _day(value: str | date | None, option: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_date(value, option)


def trend_weeks(period: Period, count: int = TREND_WEEKS) -> tuple[Period, ...]:
    """The ``count`` ISO weeks ending with the week holding the period's last day."""
    last_monday = period.last - timedelta(days=period.last.weekday())
    mondays = [last_monday - timedelta(days=7 * i) for i in range(count - 1, -1, -1)]
    return tuple(Period(m, m + timedelta(days=6), period.timezone) for m in mondays)
