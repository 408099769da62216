"""`recruit run`: screen → safety alerts → assign → invite → notify, in one process.

This is what cron calls every few minutes. Each step is one idempotent pass; a step that
fails is reported and the later steps still run when that is safe:

- when REDCap itself is unreachable or refuses the token, every later step would fail the
  same way (after its own retries), so they are reported as skipped;
- when the mail service fails (or sign-in is needed), the remaining mail steps are skipped,
  but the REDCap-only steps (assign) still run;
- any other failure of one step leaves the others to run.

The run's exit code is the worst step's (``exit_codes.worst``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from recruit_cli.errors import (
    AuthError,
    MailError,
    RecruitError,
    RedcapError,
    RedcapUnavailable,
    ServiceUnavailable,
)
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.results import PassResult, RecordAction

if TYPE_CHECKING:
    from recruit_cli.mail.message import Transport
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings

log = logging.getLogger(__name__)

STEPS = ("screen", "alert", "assign", "invite", "notify")
MAIL_STEPS = frozenset({"alert", "invite", "notify"})


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


class _TransportHolder:
    """Builds the mail transport on first use, so a run with nothing to send never signs in."""

    def __init__(self, settings: Settings, factory: Callable[[Settings], Transport] | None):
        self._settings = settings
        self._factory = factory
        self._transport: Transport | None = None

    def get(self) -> Transport:
        if self._transport is None:
            if self._factory is None:
                from recruit_cli.mail.transports import make_transport

                self._transport = make_transport(self._settings)
            else:
                self._transport = self._factory(self._settings)
        return self._transport

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


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

    transport = _TransportHolder(settings, transport_factory)
    passes: dict[str, Callable[[], PassResult]] = {
        "screen": lambda: screen_pass(settings, client, dry_run=dry_run),
        "alert": lambda: alert_pass(settings, client, transport.get(), dry_run=dry_run, now=now),
        "assign": lambda: assign_pass(settings, client, dry_run=dry_run),
        "invite": lambda: invite_pass(settings, client, transport.get(), dry_run=dry_run, now=now),
        "notify": lambda: notify_pass(settings, client, transport.get(), dry_run=dry_run, now=now),
    }
    outcomes: list[StepOutcome] = []
    redcap_down = mail_down = ""
    try:
        for step in STEPS:
            blocked = redcap_down or (mail_down if step in MAIL_STEPS else "")
            if blocked:
                outcomes.append(StepOutcome(step, None, error=f"skipped: {blocked}", skipped=True))
                continue
            try:
                result = passes[step]()
            except RecruitError as exc:
                log.error("%s failed: %s", step, exc)
                outcomes.append(StepOutcome(step, None, error=str(exc), exit_code=exc.exit_code))
                if _is_redcap_failure(exc):
                    redcap_down = f"REDCap failed in {step}"
                elif isinstance(exc, MailError | AuthError | ServiceUnavailable):
                    mail_down = f"mail failed in {step}"
                continue
            outcomes.append(StepOutcome(step, result, exit_code=result.exit_code))
            if step in MAIL_STEPS and result.exit_code in (ExitCode.AUTH, ExitCode.UNAVAILABLE):
                mail_down = f"mail failed in {step}"
    finally:
        transport.close()
    return _fold(outcomes, dry_run=dry_run)


def _is_redcap_failure(exc: RecruitError) -> bool:
    return isinstance(exc, RedcapError | RedcapUnavailable)


def _fold(outcomes: list[StepOutcome], *, dry_run: bool) -> PassResult:
    actions: list[RecordAction] = []
    notices: list[str] = []
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
        extra={"steps": [o.to_dict() for o in outcomes]},
    )
