"""When to try a call to an external system again, and how long to wait first.

REDCap and Microsoft Graph both go through ``call_with_retries``: tenacity, capped
exponential back-off with optional jitter, and the server's ``Retry-After`` when it sent one.
Each client decides *what* is worth another attempt (it raises ``Transient``) and turns what
is left into its own errors; this module only decides *whether* and *when* to try again.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from tenacity import RetryCallState

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How many attempts a call gets and how long to wait between them.

    Attributes:
        attempts: Attempts in all, the first included (1 = never retried).
        base: The first wait in seconds; it doubles with each attempt.
        max_wait: The cap on any one wait, a server's ``Retry-After`` included.
        jitter: Up to this many seconds added at random to a computed wait, so that several
            clients don't retry in step (never added to a ``Retry-After``).
    """

    attempts: int = 4
    base: float = 0.5
    max_wait: float = 30.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a call needs at least 1 attempt")
        if min(self.base, self.max_wait, self.jitter) < 0:
            raise ValueError("back-off times can't be negative")

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        ``retry_after`` is what the server asked for; it wins over the computed back-off.
        """
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        backoff: float = self.base * 2 ** (attempt - 1)
        if self.jitter:
            backoff += random.uniform(0, self.jitter)
        return min(backoff, self.max_wait)


class Transient(Exception):
    """A failure worth another attempt. Internal to the clients: callers never see it.

    Args:
        reason: Says what failed (``HTTP 503``, ``could not connect``); no data, no secret.
        retry_after: Seconds the server asked us to wait, if it did.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delay-seconds or an HTTP-date (RFC 9110).

    None when there is no header or it can't be read (the caller's back-off applies then);
    a date in the past is 0.
    """
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": the date is UTC, the sender's zone unknown
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def call_with_retries(
    attempt: Callable[[int], T],
    backoff: Backoff,
    *,
    what: str,
    log: logging.Logger,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``attempt(n)`` (n = 1, 2, ...) until it returns, retrying on ``Transient``.

    Each retry is logged at INFO: ``<what>: <reason>; retrying in <s>s (attempt n of N)``.

    Args:
        attempt: One try; raises ``Transient`` for what is worth another.
        backoff: How many tries and how long to wait between them.
        what: Names the call in the log (host and call, never data or a secret).
        log: Where retries are logged.
        sleep: How to wait (tests hand in a fake clock's).

    Raises:
        Transient: the last one, when the attempts ran out (the caller maps it to its error).
        Anything else ``attempt`` raises, at once.
    """
    from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hint = exc.retry_after if isinstance(exc, Transient) else None
        return backoff.wait(state.attempt_number, hint)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        reason = exc.reason if isinstance(exc, Transient) else "transient failure"
        seconds = state.next_action.sleep if state.next_action is not None else 0.0
        log.info(
            "%s: %s; retrying in %.3gs (attempt %d of %d)",
            what,
            reason,
            seconds,
            state.attempt_number + 1,
            backoff.attempts,
        )

    retrying = Retrying(
        stop=stop_after_attempt(backoff.attempts),
        wait=wait,
        retry=retry_if_exception_type(Transient),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    for try_ in retrying:
        with try_:
            return attempt(try_.retry_state.attempt_number)
    raise AssertionError("unreachable: tenacity either returns or raises")
