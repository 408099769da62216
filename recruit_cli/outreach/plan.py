"""The pure half of an outreach pass: what to do with each record, from its REDCap row.

``decide`` is called twice for every record that gets mail: once on the rows the pass
selected (that is the plan ``--dry-run`` prints) and once more on the same record re-read
right before it is claimed (``outreach.acquire``, step 2), so a do-not-contact flag, a
status change or another run's claim made in between is honoured.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from recruit_cli.errors import MailError, UsageError
from recruit_cli.mail.compose import idempotency_key
from recruit_cli.outreach.claims import (
    Claim,
    ClaimFormatError,
    ClaimState,
    Lease,
    parse_claim,
    resend_key,
)
from recruit_cli.results import RecordAction
from recruit_cli.settings import Settings, Status

Row = Mapping[str, str]


class Verdict(StrEnum):
    SEND = "send"  # claim, send, mark
    RECONCILE = "reconcile"  # a stopped run's open claim: take it over, then ask the transport
    TAKEN = "taken"  # another run's young claim holds it: nothing written
    ALREADY_SENT = "already_sent"  # the claim says sent but the mark is missing: mark only
    REVIEW = "review"  # to manual review with a reason; nothing sent
    SKIP = "skip"  # not this pass's business (any more); nothing written


@dataclass(frozen=True)
class Spec:
    """What distinguishes invite, notify and safety alerts; the engine is the same."""

    command: str  # "invite" | "notify" | "alert"
    kind: str  # the message kind: "invite" | "ineligible" | "safety_alert"
    done_action: str  # the action reported for a sent message: "invited" | ...
    status_from: Status  # the status a record must have, right before the send
    status_to: Status | None  # the status written with the mark; None keeps it (alerts)
    stamp_field: str  # written with the mark
    participant: bool  # participant mail: do-not-contact applies, problems go to review
    fields: tuple[str, ...]  # what to export
    filter_logic: str  # selects the pass's records
    # Kind-specific data check on a row: "<code>: <text>" (participant mail: a review
    # reason; staff alerts: why the record is skipped), or None when the row is fine.
    check: Callable[[Row], str | None]


@dataclass(frozen=True)
class Decision:
    record_id: str
    verdict: Verdict
    key: str = ""  # the key to send under (SEND) or to look for (RECONCILE, ALREADY_SENT)
    detail: str = ""  # review: "<code>: <text>"; skip: why; never PHI
    claim: Claim | None = None  # the claim found in the row
    resend: bool = False  # an explicit --resend of a record already done
    row: Row = field(default_factory=dict, compare=False, repr=False)  # what this was decided on


def decide(
    settings: Settings,
    spec: Spec,
    row: Row,
    *,
    key: str,
    lease: Lease,
    resend: bool = False,
) -> Decision:
    """Decide what to do with one record.

    Args:
        settings: the study settings (field names).
        spec: the pass.
        row: the record's exported fields.
        key: the key a new message for this record would carry.
        lease: now, and how long another run's open claim holds the record.
        resend: the operator asked to send this record again (``--record ID --resend``).
    """
    decision = _decide(settings, spec, row, key=key, lease=lease, resend=resend)
    if decision.verdict is Verdict.REVIEW and resend and is_done(settings, spec, row):
        # A record already done that can't be sent again (do-not-contact set since, a bad
        # address...) keeps its status: moving an invited person to review would undo the
        # "invited" that really happened. Nothing is written; the operator sees why.
        decision = replace(decision, verdict=Verdict.SKIP, detail=f"not sent: {decision.detail}")
    return replace(decision, row=row)


def is_done(settings: Settings, spec: Spec, row: Row) -> bool:
    """Whether the pass already did this record (its status, or for alerts the timestamp)."""
    if spec.status_to:
        return row.get(settings.fields.status, "").strip() == spec.status_to
    return bool(row.get(spec.stamp_field))


def _decide(
    settings: Settings,
    spec: Spec,
    row: Row,
    *,
    key: str,
    lease: Lease,
    resend: bool = False,
) -> Decision:
    f = settings.fields
    rid = row.get(f.record_id, "")
    status = row.get(f.status, "").strip()
    done = is_done(settings, spec, row)
    if status != spec.status_from and not (resend and done):
        return Decision(rid, Verdict.SKIP, detail=f"status is {status or 'blank'}")
    try:
        claim = parse_claim(row.get(f.email_claim, ""))
    except ClaimFormatError as exc:
        if not spec.participant:
            claim = None  # staff alerts: an unreadable claim is overwritten
        else:
            return Decision(rid, Verdict.REVIEW, detail=f"claim_invalid: {f.email_claim}: {exc}")
    kind = claim.kind(rid) if claim else None
    if claim and lease.holds(claim):
        # Another run is sending it (or one that stopped did, less than a lease ago): hands
        # off. A run never meets its own claim here: each pass has a new run id.
        return Decision(rid, Verdict.TAKEN, claim=claim, detail="another recruit run holds it")
    if claim and claim.open:
        if kind == spec.kind:
            return Decision(rid, Verdict.RECONCILE, key=claim.key, claim=claim)
        if spec.participant:
            # Some other message (another kind, or a claim copied from another record) may
            # or may not have gone out; a person has to look before anything else is sent.
            return Decision(
                rid,
                Verdict.REVIEW,
                claim=claim,
                detail=f"delivery_uncertain: an unresolved {kind or 'foreign'} claim is in "
                f"{f.email_claim}; check the mailbox, then clear it",
            )
    sent_already = claim and claim.state is ClaimState.SENT and kind == spec.kind
    if sent_already and not resend and not done and claim:
        # The message went out but the mark is missing (or staff reset the status): mark only.
        return Decision(rid, Verdict.ALREADY_SENT, key=claim.key, claim=claim)
    if done and not resend:
        return Decision(rid, Verdict.SKIP, detail=f"already {spec.done_action}")
    refused = contact_refused(settings, spec, row)
    if refused:
        return Decision(rid, Verdict.REVIEW, claim=claim, detail=refused)
    problem = spec.check(row)
    if problem:
        verdict = Verdict.REVIEW if spec.participant else Verdict.SKIP
        return Decision(rid, verdict, claim=claim, detail=problem)
    return Decision(rid, Verdict.SEND, key=key, claim=claim, resend=resend and done)


def contact_refused(settings: Settings, spec: Spec, row: Row) -> str:
    """The review reason when the person asked not to be contacted, else "".

    Asked of every row read before a participant message goes out: when the pass is
    planned, when a window is re-read, before each send of a slow (paced) window, and when
    an interrupted send is resumed.
    """
    dnc = settings.fields.do_not_contact
    if spec.participant and dnc and row.get(dnc, "").strip() == "1":
        return f"do_not_contact: {dnc} is set; nothing sent"
    return ""


def append_reason(existing: str, reason: str) -> str:
    """Add one ``<code>: <text>`` line to the reasons field, keeping what is there."""
    lines = [line for line in existing.splitlines() if line.strip()]
    if reason not in lines:
        lines.append(reason)
    return "\n".join(lines)


def message_key(settings: Settings, row: Row, kind: str) -> str:
    """The idempotency key of ``kind``'s message to this row's record (MailError if the
    record id can't be part of a key)."""
    rid = row.get(settings.fields.record_id, "")
    return idempotency_key(rid, kind, settings.email.template_version)


def plan_pass(
    settings: Settings,
    spec: Spec,
    rows: Sequence[Row],
    *,
    keys: Callable[[Row], str],
    lease: Lease,
    resend: bool = False,
) -> tuple[Decision, ...]:
    """Decide every selected record (pure: nothing is read, written or sent).

    ``keys(row)`` gives a record's idempotency key; a ``resend`` of a record already done
    gets a fresh key made from ``lease.now``.
    """
    decisions = []
    for row in rows:
        try:
            key = keys(row)
        except MailError as exc:  # a record id that cannot be part of a key
            verdict = Verdict.REVIEW if spec.participant else Verdict.SKIP
            rid = row.get(settings.fields.record_id, "")
            decisions.append(Decision(rid, verdict, detail=f"key_invalid: {exc}", row=row))
            continue
        if resend and row.get(settings.fields.status, "").strip() == spec.status_to:
            key = resend_key(key, lease.now)
        decisions.append(decide(settings, spec, row, key=key, lease=lease, resend=resend))
    return tuple(decisions)


def check_requested(
    settings: Settings,
    spec: Spec,
    rows: Sequence[Row],
    records: Sequence[str],
    *,
    resend: bool,
    lease: Lease,
) -> None:
    """Refuse ``--record`` ids that are unknown, in the wrong status, or already done.

    Raises:
        UsageError: naming the record and what to do.
    """
    f = settings.fields
    found = {row.get(f.record_id, ""): row for row in rows}
    for rid in records:
        row = found.get(rid)
        if row is None:
            raise UsageError(f"record {rid} not found")
        status = row.get(f.status, "").strip() or "blank"
        if status == spec.status_to and not resend:
            raise UsageError(
                f"record {rid} was already {spec.done_action} ({f.status} = {status}); "
                "pass --resend to send it again"
            )
        if status not in (spec.status_from, spec.status_to):
            raise UsageError(
                f"record {rid} is {status}: only {spec.status_from} records can be "
                f"{spec.done_action}"
            )
        if resend and status == spec.status_to:
            again = decide(settings, spec, row, key="-", lease=lease, resend=True)
            if again.verdict is not Verdict.SEND:
                why = again.detail.removeprefix("not sent: ") or str(again.verdict)
                raise UsageError(f"record {rid} cannot be sent again: {why}")


def planned_action(spec: Spec, d: Decision) -> RecordAction:
    """How a decision is shown by ``--dry-run``."""
    if d.verdict is Verdict.SEND:
        return RecordAction(d.record_id, spec.done_action, d.key)
    if d.verdict is Verdict.REVIEW:
        dnc = d.detail.startswith("do_not_contact:")
        return RecordAction(d.record_id, "do_not_contact" if dnc else "review", d.detail)
    if d.verdict is Verdict.RECONCILE:
        return RecordAction(d.record_id, "reconcile", f"would ask the transport about {d.key}")
    if d.verdict is Verdict.ALREADY_SENT:
        return RecordAction(d.record_id, "already_sent", "claim says sent; would mark")
    if d.verdict is Verdict.TAKEN:
        return RecordAction(d.record_id, "skipped", d.detail)
    return RecordAction(d.record_id, "skipped", d.detail)
