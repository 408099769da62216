"""The shared retry helper's arithmetic: back-off, its cap and jitter, Retry-After parsing.

The clients' retries against real servers are tested with each client (tests/redcap,
tests/msgraph); these are the pure parts.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from recruit_cli.retry import Backoff, Transient, call_with_retries, retry_after

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
log = logging.getLogger("recruit.test")


def test_backoff_doubles_and_is_capped() -> None:
    backoff = Backoff(attempts=6, base=0.5, max_wait=3.0)
    assert [backoff.wait(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_jitter_stays_within_its_bound_and_under_the_cap() -> None:
    backoff = Backoff(base=1.0, max_wait=4.0, jitter=0.5)
    waits = [backoff.wait(2) for _ in range(200)]
    assert all(2.0 <= w <= 2.5 for w in waits) and len(set(waits)) > 1
    assert backoff.wait(5) == 4.0


def test_retry_after_wins_but_is_capped_and_gets_no_jitter() -> None:
    backoff = Backoff(base=1.0, max_wait=30.0, jitter=5.0)
    assert backoff.wait(1, retry_after=7.0) == 7.0
    assert backoff.wait(1, retry_after=3600.0) == 30.0
    assert backoff.wait(3, retry_after=0.0) == 0.0


def test_a_backoff_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1 attempt"):
        Backoff(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        Backoff(max_wait=-1.0)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0.2", 0.2),
        (" 5 ", 5.0),
        ("-3", 0.0),
        ("Wed, 01 May 2024 12:00:30 GMT", 30.0),  # an HTTP-date, 30 s after NOW
        ("Wed, 01 May 2024 11:00:00 GMT", 0.0),  # in the past: now
        ("Wed, 01 May 2024 12:01:00 -0000", 60.0),
        ("soon", None),
        ("", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str, seconds: float | None) -> None:
    assert retry_after({"Retry-After": value}, now=NOW) == seconds


def test_no_retry_after_header() -> None:
    assert retry_after({}, now=NOW) is None


def test_call_with_retries_waits_as_told_then_gives_up_with_the_last_failure() -> None:
    slept: list[float] = []
    tried: list[int] = []

    def attempt(n: int) -> str:
        tried.append(n)
        raise Transient(f"HTTP 503 #{n}", retry_after=2.0 if n == 1 else None)

    backoff = Backoff(attempts=3, base=0.25, max_wait=10.0)
    with pytest.raises(Transient, match="HTTP 503 #3"):
        call_with_retries(attempt, backoff, what="test", log=log, sleep=slept.append)
    assert tried == [1, 2, 3] and slept == [2.0, 0.5]


def test_call_with_retries_returns_and_lets_other_errors_through() -> None:
    slept: list[float] = []

    def flaky(n: int) -> int:
        if n < 2:
            raise Transient("could not connect")
        return n

    assert call_with_retries(flaky, Backoff(base=0.0), what="t", log=log, sleep=slept.append) == 2

    def broken(n: int) -> int:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        call_with_retries(broken, Backoff(), what="t", log=log, sleep=slept.append)
    assert slept == [0.0]
