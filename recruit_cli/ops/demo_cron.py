"""The demo's timeline: submissions arrive over 12 weeks, and cron runs every 5 minutes.

A real deployment screens each submission within minutes of its arrival, so the demo does
the same on a simulated clock: each submission is made (as a survey response, with its own
completion time) just before the first 5-minute cron tick after it, and ``run_all`` runs at
that tick with ``now`` set to it. The report then shows the time to invitation a cron
deployment has (minutes), not that of a 12-week backlog screened at once. Ticks that would
find nothing new are skipped: they change nothing, and the demo must stay fast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.results import PassResult, RecordAction

if TYPE_CHECKING:
    from recruit_cli.ops.run import StepOutcome
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.sandbox import Sandbox
    from recruit_cli.sandbox.demo import DemoSubmission
    from recruit_cli.settings import Settings

CRON_MINUTES = 5
SURVEY = "screening_survey"


@dataclass(frozen=True)
class Timeline:
    """What the simulated weeks came to: every cycle's steps folded into one run result."""

    run: PassResult  # its RunDetails: one outcome per step, counts summed over the cycles
    cycles: int
    first: datetime
    last: datetime


def next_tick(moment: datetime, minutes: int = CRON_MINUTES) -> datetime:
    """The first cron tick (every ``minutes`` past the hour) after ``moment``."""
    base = moment.replace(second=0, microsecond=0)
    step = minutes - base.minute % minutes
    return base + timedelta(minutes=step)


def run_timeline(
    settings: Settings,
    client: RedcapClient,
    sandbox: Sandbox,
    submissions: Sequence[DemoSubmission],
    *,
    zone: tzinfo,
    end: datetime,
) -> Timeline:
    """Submit ``submissions`` (naive times on ``zone``'s clock) and run a cron cycle at each
    tick that has something new, the last one no later than ``end`` (aware)."""
    from recruit_cli.ops.run import RunDetails, run_all

    batches: dict[datetime, list[DemoSubmission]] = {}
    for submission in submissions:
        tick = min(next_tick(submission.created.replace(tzinfo=zone)), end)
        batches.setdefault(tick, []).append(submission)
    actions: list[RecordAction] = []
    notices: list[str] = []
    per_step: dict[str, list[StepOutcome]] = {}
    for tick, batch in sorted(batches.items()):
        staff = []
        for submission in batch:
            record = sandbox.submit_survey(
                SURVEY,
                submission.answers,
                completed="agree_participate" in submission.answers,
                when=submission.created,
            )
            if submission.staff:
                staff.append({settings.fields.record_id: record, **submission.staff})
        if staff:  # staff flagged them before the next cycle (a do-not-contact request)
            client.import_records(staff)
        result = run_all(settings, client, now=tick)
        actions.extend(result.actions)
        notices.extend(result.notices)
        for outcome in result.detail(RunDetails).steps:
            per_step.setdefault(outcome.step, []).append(outcome)
    steps = tuple(_fold(step, outcomes) for step, outcomes in per_step.items())
    run = PassResult(
        command="run",
        actions=tuple(actions),
        notices=tuple(notices),
        exit_code=worst([s.exit_code for s in steps]),
        details=(RunDetails(steps),),
    )
    ticks = sorted(batches)
    return Timeline(run, len(ticks), ticks[0] if ticks else end, ticks[-1] if ticks else end)


def _fold(step: str, outcomes: list[StepOutcome]) -> StepOutcome:
    """One step's outcomes over every cycle, as one outcome (its actions, the worst code)."""
    from recruit_cli.ops.run import StepOutcome

    done = [o.result for o in outcomes if o.result is not None]
    counts: Counter[str] = Counter()
    for result in done:
        counts.update(result.counts)
    errors = sorted({o.error for o in outcomes if o.error})
    return StepOutcome(
        step,
        PassResult(step, actions=tuple(a for r in done for a in r.actions)) if done else None,
        error="; ".join(errors),
        exit_code=worst([o.exit_code for o in outcomes] or [ExitCode.OK]),
        skipped=all(o.skipped for o in outcomes),
    )
