"""Holds: what sends a screened record to a person instead of on through the pipeline.

Two checks run after ``classify`` and can only *hold* a record, never decide it:

- **flags** (``[[screening.flags]]``): REDCap logic for a suspicious submission (a failed
  attention check, an implausible completion time, answers that contradict each other). A
  flag that is TRUE holds the record with ``<name>: <reason>``. A flag that can't be
  evaluated (a field it reads is blank or not a number) does not fire: the record goes on
  as usual, because a flag is a suspicion, not a criterion.
- **duplicates** (``screening.duplicates``): a later submission by a person already in the
  project.

A held record goes to ``manual_review_required`` with the holds' reasons first, then the
reasons classify gave (an ineligible duplicate keeps its failed criteria, for the person who
decides), and never to ``ineligible``: a person decides, so nobody is e-mailed and no study
ID is spent on it. The safety rule still comes first: a record in safety review stays there
(staff are alerted), whatever else holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from recruit_cli.screening.classify import (
    Outcome,
    Reason,
    ScreeningRules,
    truth,
    with_qids_total,
)
from recruit_cli.screening.qids import score_record
from recruit_cli.settings import Status


def raised_flags(
    rules: ScreeningRules, record: Mapping[str, str], today: date | None = None
) -> tuple[Reason, ...]:
    """The flags whose rule is definitely TRUE for ``record``, in the configuration's order.

    Rules see the record as criteria do (``[qids_total]`` is the scored total). Never raises
    on participant data.
    """
    if not rules.flags:
        return ()
    qids = score_record(rules.qids, record)
    scored = with_qids_total(record, qids.total if qids is not None else None)
    return tuple(
        Reason(flag.name, flag.reason)
        for flag in rules.flags
        if truth(flag.when, scored, today)[0] == "true"
    )


def hold(outcome: Outcome, holds: Sequence[Reason]) -> Outcome:
    """``outcome`` held for manual review by ``holds`` (unchanged when there are none, or
    when the record is in safety review: safety is decided first and stays)."""
    if not holds or outcome.status == Status.SAFETY_REVIEW:
        return outcome
    return Outcome(Status.MANUAL_REVIEW, (*holds, *outcome.reasons), qids_total=outcome.qids_total)
