"""One record -> one ``Outcome``. Pure and total: participant data never makes it raise.

The checks, in the order that decides (the first that decides wins):

1. **Safety.** The safety rule matches -> ``safety_review``, ahead of everything. If the rule
   cannot be evaluated (e.g. the item is blank) -> manual review ``safety_unknown``: a
   possibly at-risk person is never silently passed on to automated e-mail.
2. **Criteria that are definitely false** -> ``ineligible`` with one ``<name>: <reason>``
   line per failed criterion. A definite "no" on any criterion makes the record ineligible
   whatever else is unknown, so this is never ineligibility "by accident".
3. **Doubt** -> manual review: an invalid/incomplete QIDS (``qids_invalid``), a criterion
   that cannot be evaluated (``unevaluable_<name>``; with ``on_unknown = "ineligible"`` that
   criterion counts as false instead, in step 2), or a failed plausibility check (a
   criterion with ``on_false = "review"``, e.g. a date of birth in the future: ``<name>:
   <reason>``).
4. **Eligible path**: an e-mail address recruit can send to (``email_missing`` /
   ``email_invalid``, by ``recruit_cli.address``, the same definition compose uses) and
   exactly one group (``between_groups`` / ``ambiguous_group`` / ``unevaluable_group``);
   problems here are collected together into one manual review.

An ineligible person with an unusable e-mail stays ``ineligible``: eligibility does not depend
on contactability, and the notify pass skips (and reports) addresses it cannot use.

Reasons are ``code: readable text`` lines that name fields and criteria, never values; the
codes are ``recruit_cli.reasons``'.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from recruit_cli import address, reasons
from recruit_cli.errors import RecruitError
from recruit_cli.screening.qids import qids_fields, score_record
from recruit_cli.settings import Criterion, Flag, Group, QidsSettings, Settings, Status

if TYPE_CHECKING:
    from recruit_cli.logic import Evaluation, Logic

QIDS_TOTAL = "qids_total"  # the scored total, injected into the record for group rules
# What a pass may meet in evaluating logic on odd data; the logic module should not raise on
# data at all, but classify promises totality, so such a failure becomes "unknown".
_EVAL_ERRORS = (ArithmeticError, ValueError, TypeError, LookupError, RecruitError)


@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    @property
    def line(self) -> str:
        return f"{self.code}: {self.text}"


@dataclass(frozen=True)
class Outcome:
    status: Status
    reasons: tuple[Reason, ...] = ()
    group: str | None = None
    qids_total: int | None = None

    @property
    def reasons_text(self) -> str:
        """The reasons field's value: one ``code: text`` line per reason."""
        return "\n".join(r.line for r in self.reasons)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


@dataclass(frozen=True)
class ScreeningRules:
    """What screening applies, taken from the settings (every rule was parsed at load)."""

    ready: Logic | None
    criteria: tuple[Criterion, ...]
    safety: Logic | None
    safety_name: str
    groups: tuple[Group, ...]
    qids: QidsSettings
    email_field: str
    flags: tuple[Flag, ...] = ()  # evaluated by screening.flags, after classify

    @classmethod
    def from_settings(cls, settings: Settings) -> ScreeningRules:
        return cls(
            ready=settings.screening.ready,
            criteria=settings.screening.criteria,
            safety=settings.safety.when,
            safety_name=settings.safety.name,
            groups=settings.groups,
            qids=settings.qids,
            email_field=settings.fields.email,
            flags=settings.screening.flags,
        )

    @property
    def fields(self) -> frozenset[str]:
        """Every REDCap field the rules read (``qids_total`` is computed, not read)."""
        names: set[str] = set(qids_fields(self.qids)) | {self.email_field}
        for logic in self._all_logic():
            names |= logic.fields
        names.discard(QIDS_TOTAL)
        return frozenset(names)

    def _all_logic(self) -> list[Logic]:
        out = [c.require for c in self.criteria] + [g.when for g in self.groups]
        out += [f.when for f in self.flags]
        out += [x for x in (self.ready, self.safety) if x is not None]
        return out


def is_ready(rules: ScreeningRules, record: Mapping[str, str]) -> bool:
    """Whether a submission is ready to screen (REDCap's two-valued answer, like filterLogic)."""
    if rules.ready is None:
        return True
    try:
        return rules.ready.matches(record)
    except _EVAL_ERRORS:
        return False


def email_problem(value: str, field: str) -> Reason | None:
    """A reason when recruit can't send to ``value`` (the address itself is never quoted).

    The test is the one compose applies, so a person screened eligible never meets a
    refused address at invite time, after a study ID was spent.
    """
    if not value.strip():
        return Reason(reasons.EMAIL_MISSING, f"[{field}] is blank")
    why = address.problem(value)
    if why is not None:
        return Reason(reasons.EMAIL_INVALID, f"[{field}] is not a usable e-mail address ({why})")
    return None


def safety_flag(
    rules: ScreeningRules, record: Mapping[str, str], today: date | None = None
) -> Outcome | None:
    """The safety-review outcome when the safety rule definitely matches, else None.

    This is also asked of submissions that are not ready to screen (no consent yet, a
    half-finished survey): a person who endorsed thoughts of suicide is followed up by staff
    whatever else their form says.
    """
    if rules.safety is None or not rules.safety.holds(record, today):
        return None
    return Outcome(Status.SAFETY_REVIEW, (Reason(rules.safety_name, "matched the safety rule"),))


def classify(
    rules: ScreeningRules, record: Mapping[str, str], today: date | None = None
) -> Outcome:
    """Classify one record. Never raises on participant data."""
    if rules.safety is not None:
        flagged = safety_flag(rules, record, today)
        if flagged is not None:
            return flagged
        truth, why = _truth(rules.safety, record, today)
        if truth == "unknown":
            return Outcome(
                Status.MANUAL_REVIEW,
                (Reason(reasons.SAFETY_UNKNOWN, f"safety rule cannot be evaluated: {why}"),),
            )

    qids = score_record(rules.qids, record)
    total = qids.total if qids is not None else None
    scored = with_qids_total(record, total)

    failed: list[Reason] = []
    doubts: list[Reason] = []
    if qids is not None and qids.problem is not None:
        doubts.append(Reason(reasons.QIDS_INVALID, qids.problem))
    for criterion in rules.criteria:
        truth, why = _truth(criterion.require, scored, today)
        if truth == "false" and criterion.on_false == "review":
            doubts.append(Reason(criterion.name, criterion.reason))
        elif truth == "false" or (truth == "unknown" and criterion.on_unknown == "ineligible"):
            failed.append(Reason(criterion.name, criterion.reason))
        elif truth == "unknown":
            doubts.append(Reason(f"{reasons.UNEVALUABLE}{criterion.name}", why))
    if failed:
        return Outcome(Status.INELIGIBLE, tuple(failed), qids_total=total)
    if doubts:
        return Outcome(Status.MANUAL_REVIEW, tuple(doubts), qids_total=total)

    problems: list[Reason] = []
    email = record.get(rules.email_field, "")
    bad_email = email_problem(email if isinstance(email, str) else "", rules.email_field)
    if bad_email is not None:
        problems.append(bad_email)
    group, group_problem = _place(rules, scored, today)
    if group_problem is not None:
        problems.append(group_problem)
    if problems:
        return Outcome(Status.MANUAL_REVIEW, tuple(problems), qids_total=total)
    return Outcome(Status.ELIGIBLE, group=group, qids_total=total)


def with_qids_total(record: Mapping[str, str], total: int | None) -> dict[str, str]:
    """The record as rules see it: the scored QIDS total as ``[qids_total]`` when there is one."""
    scored = dict(record)
    if total is not None:
        scored[QIDS_TOTAL] = str(total)
    return scored


def truth(logic: Logic, record: Mapping[str, str], today: date | None) -> tuple[str, str]:
    """A rule's answer on one record, as classify reads it: ("true" | "false" | "unknown",
    why when unknown). Never raises on participant data."""
    return _truth(logic, record, today)


def _place(
    rules: ScreeningRules, record: Mapping[str, str], today: date | None
) -> tuple[str | None, Reason | None]:
    if not rules.groups:
        return None, Reason(reasons.NO_GROUPS, "no [[groups]] are configured")
    hits: list[str] = []
    unknown: list[str] = []
    for group in rules.groups:
        truth, why = _truth(group.when, record, today)
        if truth == "true":
            hits.append(group.name)
        elif truth == "unknown":
            unknown.append(f"{group.name} ({why})")
    if unknown:  # a group we cannot evaluate might have matched: never place by elimination
        return None, Reason(reasons.UNEVALUABLE_GROUP, "cannot evaluate " + ", ".join(unknown))
    if len(hits) > 1:
        return None, Reason(reasons.AMBIGUOUS_GROUP, "matches groups " + ", ".join(hits))
    if not hits:
        names = ", ".join(g.name for g in rules.groups)
        return None, Reason(reasons.BETWEEN_GROUPS, f"fits none of the groups ({names})")
    return hits[0], None


def _truth(logic: Logic, record: Mapping[str, str], today: date | None) -> tuple[str, str]:
    """("true" | "false" | "unknown", reason when unknown)."""
    from recruit_cli.logic import Truth

    try:
        ev: Evaluation = logic.truth(record, today=today)
    except _EVAL_ERRORS as exc:
        return "unknown", f"rule could not be evaluated ({type(exc).__name__})"
    if ev.truth == Truth.TRUE:
        return "true", ""
    if ev.truth == Truth.FALSE:
        return "false", ""
    return "unknown", ev.reason or "a field it reads is blank or not a number"
