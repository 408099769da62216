"""ISO weeks in the study's timezone, and the errors a bad --week/--since/--until gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from recruit_cli.errors import UsageError
from recruit_cli.report.period import Period, last_complete_week, resolve_period, trend_weeks


def test_week_bounds_are_local_midnights() -> None:
    week = resolve_period("Europe/Berlin", week="2026-W47")
    assert (week.first, week.last, week.label) == (
        date(2026, 11, 16),
        date(2026, 11, 22),
        "2026-W47",
    )
    assert week.start.astimezone(UTC) == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)
    assert week.end.astimezone(UTC) == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_week_across_a_dst_change_is_169_hours() -> None:
    # US DST ended on Sunday 2026-11-01: ISO week 44 in Los Angeles is 169 hours long.
    week = resolve_period("America/Los_Angeles", week="2026-W44")
    assert week.start.astimezone(UTC) == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)
    assert week.end.astimezone(UTC) == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert week.end.astimezone(UTC) - week.start.astimezone(UTC) == timedelta(hours=169)


def test_default_is_the_last_complete_week_on_the_study_clock() -> None:
    # Monday 2026-11-23 00:30 in Berlin is still Sunday in UTC.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert last_complete_week(now, "Europe/Berlin").label == "2026-W47"
    assert last_complete_week(now, "UTC").label == "2026-W46"
    assert resolve_period("Europe/Berlin", now=now).label == "2026-W47"


def test_iso_week_53_and_year_boundary() -> None:
    now = datetime(2027, 2, 1, tzinfo=UTC)
    week = resolve_period("UTC", week="2026-W53", now=now)
    assert (week.first, week.last) == (date(2026, 12, 28), date(2027, 1, 3))
    assert resolve_period("UTC", week="2027-W01", now=now).first == date(2027, 1, 4)


def test_a_period_that_has_not_started_is_refused() -> None:
    # Monday 2026-11-23 00:30 in Berlin: that week has started there, the next has not.
    now = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert resolve_period("Europe/Berlin", week="2026-W48", now=now).label == "2026-W48"
    with pytest.raises(UsageError, match=r"--week: 2026-W48 has not started yet"):
        resolve_period("UTC", week="2026-W48", now=now)
    with pytest.raises(UsageError, match=r"--since: 2030-01-07_2030-01-09 has not started yet"):
        resolve_period("UTC", since="2030-01-07", until="2030-01-09", now=now)


def test_date_range_label_and_inclusive_end() -> None:
    p = resolve_period("Asia/Tokyo", since="2026-11-01", until="2026-11-30")
    assert p.label == "2026-11-01_2026-11-30"
    assert p.end.astimezone(UTC) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    # A range that is exactly one ISO week is labelled as that week.
    assert resolve_period("UTC", since="2026-11-16", until="2026-11-22").label == "2026-W47"


def test_trend_weeks_end_with_the_period_week() -> None:
    weeks = trend_weeks(Period(date(2026, 11, 16), date(2026, 11, 18), "UTC"))
    assert len(weeks) == 12
    assert (weeks[0].label, weeks[-1].label) == ("2026-W36", "2026-W47")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"week": "2026-47"}, "--week: expected an ISO week like 2026-W47, got '2026-47'"),
        ({"week": "2025-W53"}, "--week: 2025 has ISO weeks 01 to 52, not 53"),
        ({"week": "2026-W00"}, "--week: 2026 has ISO weeks 01 to 53, not 00"),
        ({"since": "2026-11-31", "until": "2026-12-01"}, "--since: expected a date like"),
        ({"since": "2026-11-02"}, "--until is needed too"),
        # The date is checked first: "yesterday" is not a date (issue 14).
        ({"since": "yesterday"}, "--since: expected a date like 2026-11-16, got 'yesterday'"),
        ({"until": "tomorrow"}, "--until: expected a date like 2026-11-16, got 'tomorrow'"),
        ({"until": "2026-11-02"}, "--since is needed too"),
        ({"since": "2026-11-05", "until": "2026-11-01"}, "--until 2026-11-01 is before --since"),
        ({"week": "2026-W47", "since": "2026-11-01"}, "use either --week or --since/--until"),
    ],
)
def test_bad_periods_are_usage_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as err:
        resolve_period("UTC", **kwargs)  # type: ignore[arg-type]
    assert str(err.value).startswith(message)
    assert err.value.exit_code == 2
