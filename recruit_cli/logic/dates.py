"""Dates for ``datediff``: parsing REDCap date values, 'today' and 'now'."""

from __future__ import annotations

import re
from datetime import date, datetime

from recruit_cli.logic.values import midnight

# Seconds per unit, as REDCap documents them: a month is 30.44 days, a year 365.2425 days.
UNIT_SECONDS = {
    "y": 365.2425 * 86400,
    "M": 30.44 * 86400,
    "d": 86400.0,
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
}
DATE_FORMATS = ("ymd", "mdy", "dmy")

_TIME = r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
_YMD = re.compile(r"\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _TIME + r"\s*\Z")
_XY = re.compile(r"\s*(\d{1,2})[-/](\d{1,2})[-/](\d{4})" + _TIME + r"\s*\Z")


class Clock:
    """What 'today' and 'now' mean for one evaluation.

    ``Clock(None)`` reads the system clock when first asked. ``Clock(a_date)`` fixes today
    (and 'now' is that day at 00:00); ``Clock(a_datetime)`` fixes both.
    """

    __slots__ = ("_now", "_today")

    def __init__(self, today: date | None = None) -> None:
        self._today: date | None = None
        self._now: datetime | None = None
        if isinstance(today, datetime):
            self._now = today.replace(tzinfo=None) if today.tzinfo is None else _local(today)
            self._today = self._now.date()
        elif today is not None:
            self._today = today
            self._now = midnight(today)

    @property
    def today(self) -> date:
        if self._today is None:
            self._today = date.today()
        return self._today

    @property
    def now(self) -> datetime:
        if self._now is None:
            self._now = datetime.now()
        return self._now


def parse_date(text: str, fmt: str, clock: Clock) -> datetime | None:
    """A date or datetime value as a naive local datetime; None when it is not one.

    REDCap keeps and exports dates as Y-M-D whatever the field's display format, so a
    Y-M-D value is read as such under any ``fmt``; ``fmt`` ('mdy' / 'dmy') decides how a
    value like ``05/01/2020`` reads. ISO-8601 timestamps with an offset (the pipeline's own
    timestamp fields) are converted to local time.
    """
    word = text.strip().lower()
    if word == "today":
        return midnight(clock.today)
    if word == "now":
        return clock.now
    try:
        match = _YMD.match(text)
        if match:
            y, mo, d, hh, mm, ss = match.groups()
            return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        match = _XY.match(text)
        if match and fmt in ("mdy", "dmy"):
            a, b, y, hh, mm, ss = match.groups()
            mo, d = (a, b) if fmt == "mdy" else (b, a)
            return datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        if "T" in text and "-" in text:
            stamp = datetime.fromisoformat(text.strip())
            return stamp if stamp.tzinfo is None else _local(stamp)
    except ValueError:
        return None  # 2024-02-30, 25:00 and the like
    return None


def _local(stamp: datetime) -> datetime:
    return stamp.astimezone().replace(tzinfo=None)


def datediff(first: datetime, second: datetime, unit: str, signed: bool) -> float:
    """``second - first`` in ``unit``; its absolute value unless ``signed``."""
    diff = (second - first).total_seconds() / UNIT_SECONDS[unit]
    return diff if signed else abs(diff)
