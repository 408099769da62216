"""Wall-clock bounds: how long a run may hold the lock, and how long one call may take.

Socket timeouts (requests' ``timeout``, smtplib's) bound each *read*, not a whole answer: a
server that sends one byte every few seconds never trips them, and a cron run stuck on it
would hold the lock for ever (every later run exits 0 with "lock held", and safety alerts
stop). So:

- a run gets one ``Deadline`` when it starts (``run_deadline``: ``[ops] max_run_minutes``),
  passed down to the REDCap client and the mail transports, never kept in a global;
- every request gets its own bound too (``[redcap] max_request_seconds``, ...), and waits
  for whichever of the two comes first (``Deadline.earliest``);
- a blocking call runs under ``call_within``: the caller gets its answer, or ``Expired`` the
  moment the bound passes, however the other end dribbles.

A deadline names the setting that set it, so the error a person reads says what to change.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from recruit_cli.errors import DeadlineExceeded, OutOfTime

if TYPE_CHECKING:
    from recruit_cli.settings import Settings

T = TypeVar("T")

RUN_SETTING = "[ops] max_run_minutes"
# Sends stop being started when less than this much of the run is left (at most a minute, at
# most a tenth of the run): enough for the last answer and the marks that record the sends.
RESERVE_SHARE = 0.1
RESERVE_MAX = 60.0


@dataclass(frozen=True)
class Deadline:
    """A moment on the monotonic clock by which something must be done.

    Attributes:
        at: ``clock()`` value of the moment (``math.inf``: no bound).
        setting: The setting that bounds it, with its value, for messages
            (``[ops] max_run_minutes = 10``).
        budget: The seconds it was given, for the reserve (``allows``).
        clock: The monotonic clock (tests hand in a fake one).
    """

    at: float
    setting: str = ""
    budget: float = math.inf
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)

    @classmethod
    def after(
        cls, seconds: float, setting: str, *, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        """The moment ``seconds`` from now, bounded by ``setting``."""
        return cls(clock() + seconds, setting, seconds, clock)

    @classmethod
    def never(cls) -> Deadline:
        """No bound at all (a caller that was given none)."""
        return cls(math.inf)

    def remaining(self) -> float:
        """Seconds left; 0 once passed."""
        return max(0.0, self.at - self.clock())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def earliest(self, other: Deadline | None) -> Deadline:
        """Whichever of the two comes first (its setting is the one to name)."""
        if other is None or self.at <= other.at:
            return self
        return other

    def within(self, seconds: float, setting: str) -> Deadline:
        """A bound of ``seconds`` from now (named ``setting``), cut short by this one."""
        return Deadline.after(seconds, setting, clock=self.clock).earliest(self)

    def describe(self) -> str:
        """``[ops] max_run_minutes = 10``: what a message names."""
        return self.setting or "no bound"

    def exceeded(self, what: str) -> DeadlineExceeded:
        """The error for ``what`` not done in time (to raise). Only the run's deadline is
        raised this way; a request's own bound is the client's to report."""
        return DeadlineExceeded(
            f"{what}: not done when the run reached its time bound ({self.describe()})",
            setting=self.setting,
        )

    def check(self, what: str) -> None:
        """Raise ``DeadlineExceeded`` if the moment has passed (before starting ``what``)."""
        if self.expired():
            raise self.exceeded(what)

    def allows(self, wait: float = 0.0) -> bool:
        """Whether, after waiting ``wait`` seconds, there is still time to start a send.

        Leaves a reserve (a tenth of the budget, at most a minute) for the answer and for
        writing down what was sent.
        """
        reserve = min(RESERVE_MAX, self.budget * RESERVE_SHARE)
        return self.remaining() - wait > reserve

    def require_time(self, what: str, wait: float = 0.0) -> None:
        """Raise ``OutOfTime`` (exit 0) when ``allows(wait)`` is False: ``what`` waits."""
        if not self.allows(wait):
            raise OutOfTime(
                f"{what} not started: the run is near its time bound ({self.describe()}); "
                "the rest is left to the next run"
            )


def run_deadline(settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> Deadline:
    """The bound of one run: ``[ops] max_run_minutes`` from now."""
    minutes = settings.ops.max_run_minutes
    return Deadline.after(minutes * 60.0, f"{RUN_SETTING} = {minutes:g}", clock=clock)


class Expired(Exception):
    """A call did not finish within its time (internal: callers map it to their errors)."""


def call_within(
    seconds: float,
    fn: Callable[[], T],
    *,
    on_expiry: Callable[[], None] | None = None,
    name: str = "recruit-bounded-call",
) -> T:
    """Call ``fn`` and return what it returns, or raise ``Expired`` after ``seconds``.

    ``fn`` runs in a daemon thread; this thread waits for it at most ``seconds``. That is
    the only way to put a wall-clock bound on a blocking read that some library drives
    (http.client parsing headers, smtplib reading a reply): a read timeout restarts with
    every byte. When the time is up ``on_expiry`` runs (cut the connection, tell the worker
    to stop) and the worker is left to end on its own; its result is dropped. What ``fn``
    raises is raised here.

    Raises:
        Expired: ``seconds`` passed first (also when ``seconds`` <= 0: ``fn`` never runs).
    """
    if seconds <= 0:
        raise Expired()
    done = threading.Event()
    results: list[T] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(fn())
        except BaseException as exc:  # handed to the waiting thread, which re-raises it
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=work, name=name, daemon=True).start()
    if not done.wait(None if math.isinf(seconds) else seconds):
        if on_expiry is not None:
            on_expiry()
        raise Expired()
    if errors:
        raise errors[0]
    return results[0]
