"""`recruit screen`: classify every pending, ready submission and write the outcome back.

One export (only the fields the rules read, narrowed with ``filterLogic`` to pending records
that are ready or match the safety rule, plus acknowledged safety records: a submission that
is not ready to screen is still checked for safety, and only for safety), local evaluation,
and batched imports of the pipeline's own fields (status, reasons, group, screened-at).
Staff data is never written.

Writes use REDCap's ``overwrite`` behaviour so that a reason list can be cleared; since only
the four pipeline fields are sent, nothing else in the record can be blanked.

Safety records stay put until staff set the acknowledgement field to "1"; the next pass then
moves them to ``manual_review_required`` with the reason ``safety_acknowledged``: a person
flagged at risk is never put back into automated screening and e-mail; staff decide.

Duplicates and flags (``screening.duplicates``, ``screening.flags``) hold a record for
manual review after classify and before any study ID or e-mail; the safety rule comes first.
With ``[duplicates]`` configured a pass first reads the identity fields of every record
(``duplicates.read_identities``), then the usual export narrowed to the records whose
status allows screening (``may_screen``), or none when there are none. A held duplicate
whose acknowledgement field (``[fields] duplicate_ok``) staff set to "1" is screened again,
normally, by the next pass.

``screen_and_alert`` is `recruit screen`: the pass, then at once the staff alert for each
new safety match (``outreach.safety``), where `recruit run` orders the alert as a step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from recruit_cli import reasons
from recruit_cli.chunks import chunks
from recruit_cli.errors import RecruitError, ServiceUnavailable
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.faultpoints import crash_point
from recruit_cli.redcap.record_ids import RefusedRecord
from recruit_cli.redcap.rows import base_rows, field_value, record_key
from recruit_cli.redcap.writes import RecordWriter
from recruit_cli.results import PassResult, RecordAction, combine
from recruit_cli.screening import duplicates
from recruit_cli.screening.classify import (
    Outcome,
    Reason,
    ScreeningRules,
    classify,
    is_ready,
    safety_flag,
)
from recruit_cli.screening.flags import hold, raised_flags
from recruit_cli.settings import BLANK_STATUSES, FieldMap, Settings, Status

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient

log = logging.getLogger("recruit.screening.screen")

ACK_REASON = Reason(
    reasons.SAFETY_ACKNOWLEDGED, "staff acknowledged the safety alert; decide eligibility manually"
)
_VERBS = {
    Status.ELIGIBLE: "eligible",
    Status.INELIGIBLE: "ineligible",
    Status.MANUAL_REVIEW: "review",
    Status.SAFETY_REVIEW: "safety_review",
}


@dataclass(frozen=True)
class ScreenDecision:
    record_id: str
    outcome: Outcome
    acknowledged: bool = False  # a safety record staff acknowledged, moving to review

    def action(self, *, ok: bool = True, detail: str | None = None) -> RecordAction:
        o = self.outcome
        # An acknowledged record keeps the lines it had, which staff may have typed: only
        # recruit's own line is shown.
        shown = (ACK_REASON,) if self.acknowledged else o.reasons
        if detail is None:
            detail = f"group {o.group}" if o.group else "; ".join(r.line for r in shown)
        return RecordAction(self.record_id, _VERBS[o.status], detail, ok=ok)


@dataclass(frozen=True)
class ScreenDetails:
    """What `recruit screen` returns besides its actions (``PassResult.detail``)."""

    safety_flagged: tuple[str, ...]  # record ids newly in safety review (dry run: would be)
    not_ready: int = 0  # exported but not ready to screen (filterLogic should prevent it)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"safety_flagged": list(self.safety_flagged)}
        if self.not_ready:
            out["not_ready"] = self.not_ready
        return out


@dataclass(frozen=True)
class ScreenPlan:
    decisions: tuple[ScreenDecision, ...]
    not_ready: tuple[str, ...] = ()  # exported but not ready (filterLogic should prevent it)

    @property
    def safety(self) -> tuple[str, ...]:
        return tuple(
            d.record_id for d in self.decisions if d.outcome.status == Status.SAFETY_REVIEW
        )


def export_fields(settings: Settings, rules: ScreeningRules) -> list[str]:
    """The fields the screen pass reads: record id first, then the rules' and pipeline's."""
    f = settings.fields
    own = {f.status, f.reasons, f.safety_ack}
    if duplicates.enabled(settings):
        own.add(f.duplicate_ok)
    rest = sorted((rules.fields | own) - {f.record_id})
    return [f.record_id, *rest]


def filter_logic(settings: Settings) -> str:
    """Pending records that are ready or match the safety rule, plus safety records whose
    alert staff acknowledged (and, with ``[duplicates]``, review records staff marked as
    not a duplicate)."""
    f = settings.fields
    pending = f"[{f.status}] = '' or [{f.status}] = '{Status.PENDING}'"
    ready = settings.screening.ready.text if settings.screening.ready else ""
    safety = settings.safety.when.text if settings.safety.when else ""
    if ready and safety:
        # Not-ready submissions are still checked for safety (see classify.safety_flag).
        ready = f"({ready}) or ({safety})"
    todo = f"({ready}) and ({pending})" if ready else pending
    acked = f"[{f.status}] = '{Status.SAFETY_REVIEW}' and [{f.safety_ack}] = '1'"
    if duplicates.enabled(settings):
        # Which of these hold a duplicate reason is decided locally (plan_screen).
        not_dup = f"[{f.status}] = '{Status.MANUAL_REVIEW}' and [{f.duplicate_ok}] = '1'"
        return f"({todo}) or ({acked}) or ({not_dup})"
    return f"({todo}) or ({acked})"


def may_screen(
    settings: Settings, identities: Iterable[Mapping[str, str]], only: Sequence[str] | None
) -> list[str]:
    """The record ids ``filter_logic`` could select, by status alone (a superset of them):
    pending, safety review acknowledged, review marked "not a duplicate"."""
    f = settings.fields
    wanted = set(only) if only else None
    out: dict[str, None] = {}
    for row in identities:
        rid = field_value(row, f.record_id)
        status = field_value(row, f.status)
        if (wanted is not None and rid not in wanted) or not rid:
            continue
        if (
            status in BLANK_STATUSES
            or (status == Status.SAFETY_REVIEW and field_value(row, f.safety_ack) == "1")
            or (status == Status.MANUAL_REVIEW and field_value(row, f.duplicate_ok) == "1")
        ):
            out[rid] = None
    return list(out)


def acknowledged_duplicate(settings: Settings, row: Mapping[str, str]) -> bool:
    """A record held as a duplicate that staff marked as a different person.

    Never one whose safety alert was acknowledged: that person stays with staff.
    """
    codes = {
        line.partition(":")[0].strip()
        for line in field_value(row, settings.fields.reasons).splitlines()
    }
    return (
        field_value(row, settings.fields.status) == Status.MANUAL_REVIEW
        and field_value(row, settings.fields.duplicate_ok) == "1"
        and reasons.DUPLICATE in codes
        and reasons.SAFETY_ACKNOWLEDGED not in codes
    )


def plan_screen(
    settings: Settings,
    rules: ScreeningRules,
    rows: Iterable[Mapping[str, str]],
    *,
    now: datetime,
    identities: Iterable[Mapping[str, str]] | None = None,
) -> ScreenPlan:
    """Decide every exported record. Pure: the same rows give the same plan.

    ``identities`` are the identity fields of every record (``duplicates.read_identities``);
    without them there is no duplicate check.
    """
    f = settings.fields
    today = now.date()
    decisions: list[ScreenDecision] = []
    not_ready: list[str] = []
    ordered = sorted(rows, key=lambda r: record_key(field_value(r, f.record_id)))
    held: dict[str, Reason] = {}
    if identities is not None and duplicates.enabled(settings):
        candidates = duplicates.candidates(settings, rules, ordered)
        held = duplicates.find_duplicates(settings, identities, candidates)
    for row in ordered:
        record_id = field_value(row, f.record_id)
        if not record_id:
            continue
        status = field_value(row, f.status)
        if status == Status.SAFETY_REVIEW:
            if field_value(row, f.safety_ack) == "1":
                earlier = tuple(
                    Reason(*_split_reason(line))
                    for line in field_value(row, f.reasons).splitlines()
                    if line.strip() and not line.startswith(ACK_REASON.code)
                )
                outcome = Outcome(Status.MANUAL_REVIEW, (*earlier, ACK_REASON))
                decisions.append(ScreenDecision(record_id, outcome, acknowledged=True))
            continue
        again = status == Status.MANUAL_REVIEW and acknowledged_duplicate(settings, row)
        if status not in BLANK_STATUSES and not again:
            continue  # already screened: never re-decided
        if not is_ready(rules, row):
            flagged = safety_flag(rules, row, today=today)
            if flagged is not None:
                decisions.append(ScreenDecision(record_id, flagged))
            elif not again:
                not_ready.append(record_id)
            continue
        holds = [held[record_id]] if record_id in held else []
        holds += raised_flags(rules, row, today)
        outcome = hold(classify(rules, row, today=today), holds)
        decisions.append(ScreenDecision(record_id, outcome))
    return ScreenPlan(tuple(decisions), tuple(not_ready))


def write_rows(fields: FieldMap, plan: ScreenPlan, now: datetime) -> list[dict[str, str]]:
    """The import rows: pipeline fields only, every one of them, so stale values are cleared."""
    stamp = now.isoformat(timespec="seconds")
    return [
        {
            fields.record_id: d.record_id,
            fields.status: str(d.outcome.status),
            fields.reasons: d.outcome.reasons_text,
            fields.group: d.outcome.group or "",
            fields.screened_at: stamp,
        }
        for d in plan.decisions
    ]


def screen_pass(
    settings: Settings,
    client: RedcapClient,
    *,
    records: Sequence[str] | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PassResult:
    """Screen pending records once. Returns the result; its ``ScreenDetails`` list the record
    ids newly sent to safety review (their staff alert is ``outreach.safety``'s job).
    """
    rules = ScreeningRules.from_settings(settings)
    now = now or settings.study.now()
    seen = len(client.refused)
    todo = list(records) if records else None
    identities = None
    if duplicates.enabled(settings):
        # The identity fields of every record also tell which records the screen export
        # can be narrowed to (by status): REDCap then applies filterLogic to those alone,
        # instead of to the whole project. A refused record id can't be named in that
        # list, so then the export runs over the whole project as without duplicates.
        identities = duplicates.read_identities(settings, client)
        if len(client.refused) == seen:
            todo = may_screen(settings, identities, records)
        seen = len(client.refused)
    rows = (
        client.export_records(
            records=todo, fields=export_fields(settings, rules), filter_logic=filter_logic(settings)
        )
        if todo != []
        else []
    )
    plan = plan_screen(settings, rules, base_rows(rows), now=now, identities=identities)
    if dry_run:
        result = _result(plan, written=None, failed={}, dry_run=True)
    else:
        result = apply_screen(settings, client, plan, now=now)
    result = replace(result, notices=(*result.notices, *unmatched(records, plan.decisions)))
    return with_refused(settings, rules, result, client.refused[seen:], now=now)


def with_refused(
    settings: Settings,
    rules: ScreeningRules,
    result: PassResult,
    refused: Sequence[RefusedRecord],
    *,
    now: datetime,
) -> PassResult:
    """Add the records whose id the export refused (``redcap.record_ids``): not screened.

    Nothing can be written for such a record (its id might reach another record), so it
    stays as it is and fails the pass (exit 5) until staff correct its id. When its answers
    match the safety rule, the alert step still alerts staff under its safe key
    (``outreach.refused_alerts``); this says so.
    """
    if not refused:
        return result
    first: dict[str, RefusedRecord] = {}  # a record's first row (repeating rows repeat it)
    for record in refused:
        first.setdefault(record.key, record)
    actions = [
        RecordAction(r.key, "refused", f"not screened: {r.message}", ok=False)
        for r in first.values()
    ]
    notices = [
        f"SAFETY: {r.key} (row {r.position} of the export) matched the safety rule; its "
        "record id can't be used, so staff are alerted under that name"
        for r in first.values()
        if field_value(r.row, settings.fields.status) in BLANK_STATUSES
        and safety_flag(rules, r.row, today=now.date()) is not None
    ]
    return replace(
        result,
        actions=(*result.actions, *actions),
        notices=(*result.notices, *notices),
        exit_code=worst([result.exit_code, ExitCode.PARTIAL]),
    )


def screen_and_alert(
    settings: Settings, client: RedcapClient, *, records: list[str] | None, dry_run: bool
) -> PassResult:
    """The screen pass, then (for real runs) the staff alert for every unalerted safety record.

    This is `recruit screen`: a safety match alerts staff at once, not at the next
    `recruit run`. The alert pass is separate so that ``run_all`` can order it itself; its
    failure (mail down, sign-in needed) never hides what screening wrote: it becomes a
    notice and an exit code.
    """
    result = screen_pass(settings, client, records=records, dry_run=dry_run)
    if dry_run:
        return result
    from recruit_cli.outreach.safety import alert_pass

    try:
        from recruit_cli.mail.transports import make_transport

        transport = make_transport(settings, deadline=client.deadline)
        try:
            alerts = alert_pass(settings, client, transport, dry_run=False)
        finally:
            transport.close()
    except RecruitError as exc:
        return replace(
            result,
            notices=(*result.notices, f"safety alerts not sent: {exc}"),
            exit_code=worst([result.exit_code, exc.exit_code]),
        )
    return combine("screen", result, alerts)


def unmatched(records: Sequence[str] | None, decisions: Iterable[ScreenDecision]) -> list[str]:
    """One notice per ``--record`` the pass left alone, so a typo or a done record is told."""
    seen = {d.record_id for d in decisions}
    return [
        f"record {rid}: not screened (no such record, already screened, or not ready)"
        for rid in dict.fromkeys(records or ())
        if rid not in seen
    ]


def apply_screen(
    settings: Settings, client: RedcapClient, plan: ScreenPlan, *, now: datetime
) -> PassResult:
    """Write the plan (``redcap.writes``: batched, one refused record fails alone)."""
    f = settings.fields
    rows = write_rows(f, plan, now)
    writer = RecordWriter.for_pass(client, settings, [d.record_id for d in plan.decisions])
    failed: dict[str, str] = {}
    unavailable = ""
    for batch in chunks(rows, settings.redcap.batch_size):
        try:
            out = writer.write(batch, overwrite=True)
        except ServiceUnavailable as exc:
            unavailable = str(exc)
            break
        failed.update({rid: f"not written: {msg}" for rid, msg in out.refused.items()})
        crash_point("screen.after_batch")
    written = set(writer.written)
    if unavailable:
        left = (r[f.record_id] for r in rows if r[f.record_id] not in written)
        failed.update(dict.fromkeys(left, "not written: REDCap unavailable"))
    result = _result(plan, written=written, failed=failed, dry_run=False)
    # Under cron stdout stays quiet on success, so --log-file (INFO) is the audit trail:
    # record id and outcome only, never the reasons' wording or any answer.
    for d in plan.decisions:
        if d.record_id in written:
            log.info("screen: record %s -> %s", d.record_id, d.outcome.status)
    log.info("screen: %d written, %d failed", len(written), len(failed))
    if unavailable:
        result = replace(
            result,
            notices=(*result.notices, f"REDCap became unavailable: {unavailable}"),
            exit_code=ExitCode.UNAVAILABLE,
        )
    elif failed and len(failed) == len(rows) > 1:
        # Every record refused: the project (a validation, rights), not one record.
        result = replace(result, exit_code=ExitCode.REFUSED)
    return result


def _result(
    plan: ScreenPlan, *, written: set[str] | None, failed: dict[str, str], dry_run: bool
) -> PassResult:
    actions = tuple(
        d.action(ok=False, detail=failed[d.record_id]) if d.record_id in failed else d.action()
        for d in plan.decisions
    )
    flagged = [
        rid for rid in plan.safety if written is None or rid in written
    ]  # dry run: would be flagged
    notices: list[str] = []
    for rid in flagged:
        if dry_run:
            notices.append(f"SAFETY: record {rid} would need staff review")
        else:
            # INFO, for --log-file: the notice below already tells stderr (and cron's MAILTO)
            # once; a WARNING too would say it twice in every cron mail.
            log.info("record %s matched the safety rule: staff review needed", rid)
            notices.append(f"SAFETY: record {rid} needs staff review")
    return PassResult(
        command="screen",
        dry_run=dry_run,
        actions=actions,
        notices=tuple(notices),
        exit_code=ExitCode.PARTIAL if failed else ExitCode.OK,
        details=(ScreenDetails(tuple(flagged), len(plan.not_ready)),),
    )


def _split_reason(line: str) -> tuple[str, str]:
    code, _, text = line.partition(":")
    return code.strip(), text.strip()
