"""`recruit run`: screen → safety alerts → assign → invite → notify, in one process.

This is what cron calls every few minutes. Each step is one idempotent pass; a step that
fails is reported and the later steps still run when that is safe:

- when REDCap itself is unreachable or refuses the token, every later step would fail the
  same way (after its own retries), so they are reported as skipped; REDCap refusing one
  request (exit 3 when a field a rule names is not in the project, else exit 7) does not
  stop the others, which make their own requests;
- when the mail service fails (or sign-in is needed, or the transport can't be set up), the
  remaining mail steps are skipped, but the REDCap-only steps (assign) still run;
- any other failure of one step (a template that doesn't render, some records refused:
  exit 3 or 5) leaves the others to run: each pass reads REDCap afresh and acts only on
  records in its own starting status, so a later step never builds on an earlier one's
  failure.

- when the run reaches its time bound (``[ops] max_run_minutes``: REDCap or the mail
  service too slow), the step under way stops with exit 4 naming the setting, and the later
  steps are reported as skipped: the run ends, releases the lock, and cron's MAILTO and the
  health-check ping hear of it, so the next cycle (and its safety alerts) starts on time.

An exception that is not a ``RecruitError`` is a bug; it ends the run (exit 1), since
nothing can be said about what is safe after it.

The run's exit code is the worst step's (``exit_codes.worst``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from recruit_cli.errors import (
    AuthError,
    LockHeld,
    MailError,
    RecruitError,
    RedcapNotFound,
    RedcapTokenRejected,
    RedcapUnavailable,
    ServiceUnavailable,
)
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.logs import get_logger
from recruit_cli.results import PassResult, RecordAction

if TYPE_CHECKING:
    from recruit_cli.deadline import Deadline
    from recruit_cli.mail.message import Transport
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings

# Under "recruit", so --log-file (the audit trail under cron) has one line per step.
log = get_logger("ops.run")

STEPS = ("screen", "alert", "assign", "invite", "notify")
MAIL_STEPS = frozenset({"alert", "invite", "notify"})
DRY_RUN_NOTICE = (
    "dry run: each step plans from REDCap as it is now; records an earlier step would "
    "change reach the later steps on a real run"
)


@dataclass(frozen=True)
class StepOutcome:
    step: str
    result: PassResult | None  # None when the step failed or was skipped
    error: str = ""  # one line, safe to print (RecruitError messages carry no PHI)
    exit_code: ExitCode = ExitCode.OK
    skipped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "exit_code": int(self.exit_code),
            "skipped": self.skipped,
            "error": self.error,
            "counts": self.result.counts if self.result else {},
        }


@dataclass(frozen=True)
class RunDetails:
    """What `recruit run` returns besides the actions of every step: each step's outcome."""

    steps: tuple[StepOutcome, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps]}


class _TransportHolder:
    """Builds the mail transport once, when the first mail step starts.

    Building is cheap (no transport connects or signs in before its first send), but it can
    fail on configuration; ``failed`` then holds that error, so the run reports it once and
    skips the other mail steps instead of failing each of them the same way.
    """

    def __init__(
        self,
        settings: Settings,
        factory: Callable[[Settings], Transport] | None,
        deadline: Deadline | None = None,
    ):
        self._settings = settings
        self._factory = factory
        self._deadline = deadline
        self._transport: Transport | None = None
        self.failed: RecruitError | None = None

    def get(self) -> Transport:
        if self._transport is None:
            try:
                if self._factory is None:
                    from recruit_cli.mail.transports import make_transport

                    self._transport = make_transport(self._settings, deadline=self._deadline)
                else:
                    self._transport = self._factory(self._settings)
            except RecruitError as exc:
                self.failed = exc
                raise
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def run_cycle(
    settings: Settings,
    *,
    dry_run: bool = False,
    transport_factory: Callable[[Settings], Transport] | None = None,
) -> PassResult:
    """One cron cycle: the project's lock, the health-check pings, and every pass.

    The run's time bound (``[ops] max_run_minutes``) starts first; then the project info
    (its shape, and its id for the lock: ``open_project``), then the lock. A run that finds
    another one in progress raises ``LockHeld`` (exit 0) without pinging, so the monitor
    sees one start and one end per real run. The end ping carries the exit status the
    process ends with, also when a step raised: a ``RecruitError``'s code, 130 for Ctrl-C
    (``ExitCode.INTERRUPTED``), 1 for anything else (a bug); a run that failed before it
    held the lock (REDCap down, a project recruit can't work on) pings its start and that
    end together. A dry run pings nothing: it is not the scheduled job.
    """
    from recruit_cli.deadline import run_deadline
    from recruit_cli.ops.healthcheck import ping
    from recruit_cli.redcap.project import open_project

    url = "" if dry_run else settings.ops.healthcheck_url
    deadline = run_deadline(settings)
    code: int = ExitCode.UNEXPECTED
    started = False
    try:
        with open_project(settings, lock=True, deadline=deadline) as client:
            started = True
            ping(url, "start")  # in the try: a Ctrl-C during it still ends with /130
            result = run_all(settings, client, dry_run=dry_run, transport_factory=transport_factory)
        code = result.exit_code
    except LockHeld:
        url = ""  # another run is this cycle's: it pings
        raise
    except RecruitError as exc:
        code = exc.exit_code
        raise
    except KeyboardInterrupt:
        code = ExitCode.INTERRUPTED  # what cli.main exits with
        raise
    finally:
        if not started:
            ping(url, "start")
        ping(url, str(int(code)))
    return result


def run_all(
    settings: Settings,
    client: RedcapClient,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    transport_factory: Callable[[Settings], Transport] | None = None,
) -> PassResult:
    """Run every pass once, in order, and fold the step results into one ``PassResult``."""
    from recruit_cli.outreach.invite import invite_pass
    from recruit_cli.outreach.notify import notify_pass
    from recruit_cli.outreach.safety import alert_pass
    from recruit_cli.screening.assign import assign_pass
    from recruit_cli.screening.screen import screen_pass

    transport = _TransportHolder(settings, transport_factory, client.deadline)
    passes: dict[str, Callable[[], PassResult]] = {
        "screen": lambda: screen_pass(settings, client, dry_run=dry_run, now=now),
        "alert": lambda: alert_pass(settings, client, transport.get(), dry_run=dry_run, now=now),
        "assign": lambda: assign_pass(settings, client, dry_run=dry_run),
        "invite": lambda: invite_pass(settings, client, transport.get(), dry_run=dry_run, now=now),
        "notify": lambda: notify_pass(settings, client, transport.get(), dry_run=dry_run, now=now),
    }
    outcomes: list[StepOutcome] = []
    all_down = mail_down = ""  # why every later step, or every mail step, is skipped
    log.info("run: start%s", " (dry run)" if dry_run else "")
    try:
        for step in STEPS:
            if client.deadline.expired():
                all_down = f"the run reached its time bound ({client.deadline.describe()})"
            blocked = all_down or (mail_down if step in MAIL_STEPS else "")
            if blocked:
                outcomes.append(StepOutcome(step, None, error=f"skipped: {blocked}", skipped=True))
                log.info("run: %s skipped: %s", step, blocked)
                continue
            try:
                result = passes[step]()
            except RecruitError as exc:
                # Logged at INFO: the operator sees it once on stderr, as a notice of the
                # run's result; the log file keeps it with the time.
                log.info("run: %s failed (exit %d): %s", step, exc.exit_code, exc)
                outcomes.append(StepOutcome(step, None, error=str(exc), exit_code=exc.exit_code))
                if _is_redcap_failure(exc):
                    all_down = f"REDCap failed in {step}"
                elif transport.failed is exc:
                    mail_down = "the mail transport could not be set up"
                elif isinstance(exc, MailError | AuthError | ServiceUnavailable):
                    mail_down = f"mail failed in {step}"
                continue
            outcomes.append(StepOutcome(step, result, exit_code=result.exit_code))
            _log_step(step, result)
            if step in MAIL_STEPS and result.exit_code == ExitCode.AUTH:
                mail_down = f"Microsoft sign-in needed (in {step})"
            elif step in MAIL_STEPS and result.exit_code == ExitCode.UNAVAILABLE:
                # An outreach pass turns both outages into its exit code; if it was REDCap,
                # assign (which still runs) finds out after its own retries.
                mail_down = f"REDCap or the mail service was unavailable in {step}"
    finally:
        transport.close()
    folded = _fold(outcomes, dry_run=dry_run)
    log.info("run: done, exit %d", folded.exit_code)
    return folded


def _log_step(step: str, result: PassResult) -> None:
    counts = ", ".join(f"{n} {action}" for action, n in result.counts.items()) or "nothing to do"
    log.info("run: %s exit %d: %s", step, result.exit_code, counts)
    if result.exit_code != ExitCode.OK:
        for notice in result.notices:
            log.info("run: %s: %s", step, notice)


def _is_redcap_failure(exc: RecruitError) -> bool:
    """REDCap can't be used at all: every later step would fail the same way."""
    return isinstance(exc, RedcapTokenRejected | RedcapNotFound | RedcapUnavailable)


def _fold(outcomes: list[StepOutcome], *, dry_run: bool) -> PassResult:
    actions: list[RecordAction] = []
    notices: list[str] = []
    if dry_run:
        # Nothing is written, so each step plans from REDCap as it is now: a record an earlier
        # step would move (screened, given an ID) appears in the later steps only on a real run.
        notices.append(DRY_RUN_NOTICE)
    for outcome in outcomes:
        if outcome.result is not None:
            actions.extend(outcome.result.actions)
            notices.extend(outcome.result.notices)
        if outcome.error:
            notices.append(f"{outcome.step}: {outcome.error}")
    return PassResult(
        command="run",
        dry_run=dry_run,
        actions=tuple(actions),
        notices=tuple(notices),
        exit_code=worst([o.exit_code for o in outcomes]),
        details=(RunDetails(tuple(outcomes)),),
    )
