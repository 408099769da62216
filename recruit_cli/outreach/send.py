"""The one claim -> send -> mark engine that invite, notify and safety alerts share.

See the package docstring (``recruit_cli.outreach``) for the exactly-once argument. In
short, per window of ``WINDOW`` records:

1. re-read the window (status, do-not-contact, claim, address) and decide again;
2. CLAIM: import ``<key>|claimed|<now>`` for the records about to be sent, in the same
   import as the previous chunk's marks (one REDCap call does both);
3. SEND each message through the transport;
4. MARK: status, timestamp and ``<key>|sent|<now>``, written with the next claim import or
   at the end of the pass.

A crash anywhere leaves either no claim (nothing was sent), a ``claimed`` claim (the next
pass asks the transport whether the key went out) or a ``sent`` claim (nothing to do but
the mark). Crash points: ``outreach.after_claim``, ``outreach.after_send``,
``outreach.after_mark``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from recruit_cli.chunks import chunks
from recruit_cli.errors import (
    ConfigError,
    DeliveryUncertain,
    MailError,
    RecipientRejected,
    RecruitError,
    UsageError,
)
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.faultpoints import crash_point
from recruit_cli.mail.message import OutgoingMessage, Transport
from recruit_cli.outreach import claims
from recruit_cli.outreach.plan import (
    Decision,
    Row,
    Spec,
    Verdict,
    append_reason,
    check_requested,
    contact_refused,
    decide,
    message_key,
    plan_pass,
    planned_action,
)
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.results import PassResult, RecordAction
from recruit_cli.settings import Settings, Status

log = logging.getLogger("recruit.outreach")

WINDOW = 10  # records re-read per export just before they are claimed and sent
# Transports whose ``was_sent`` can answer. There a claim may cover a window of messages
# (after a crash the next pass asks the transport about each). SMTP cannot answer, so there
# a claim covers only the one message about to be sent; unknown transports are treated alike.
VERIFIABLE = frozenset({"outbox", "graph"})
# Do-not-contact is checked before every send. A window is re-read just before its claims;
# when sending it takes longer than this (Graph's pacing: 2 s a message at 30 a minute), the
# records not yet sent are read again before the next send. The default of ``recheck_after``.
RECHECK_AFTER = 5.0  # seconds

_T = TypeVar("_T")
Build = Callable[[Settings, Row, str], OutgoingMessage]  # (settings, row, key) -> message


class _Stop(Exception):
    """Ends the sending part of a pass; what was sent is still marked."""

    def __init__(self, code: ExitCode, notice: str) -> None:
        super().__init__(notice)
        self.code = code
        self.notice = notice


@dataclass(frozen=True)
class OutreachDetails:
    """What invite, notify and the safety alerts return besides their actions."""

    transport: str  # "outbox" | "smtp" | "graph"
    sent: int  # messages handed to the transport by this pass
    redcap_calls: int = 0  # API calls the pass made (benchmarks count them)

    def to_dict(self) -> dict[str, Any]:
        return {"transport": self.transport, "sent": self.sent, "redcap_calls": self.redcap_calls}


@dataclass(frozen=True)
class _Job:
    decision: Decision  # as re-decided on the row read just before the send
    key: str
    message: OutgoingMessage


def _not_in(jobs: Sequence[_Job], withdrawn: set[str]) -> list[_Job]:
    """The jobs whose claims are still open (a withdrawn one was already settled)."""
    return [job for job in jobs if job.decision.record_id not in withdrawn]


class Outreach:
    """One pass of one kind of mail: export, decide, then claim -> send -> mark.

    ``recheck_after``: seconds a read of the records being sent stays fresh; once older,
    the records not yet sent are read again before the next send (0: before every send).
    """

    def __init__(
        self,
        settings: Settings,
        client: RedcapClient,
        transport: Transport,
        spec: Spec,
        *,
        build: Build,
        now: datetime | None = None,
        recheck_after: float = RECHECK_AFTER,
    ) -> None:
        self.settings = settings
        self.client = client
        self.transport = transport
        self.spec = spec
        self.build = build
        self._fixed_now = now
        self.recheck_after = recheck_after
        self._pending: dict[str, dict[str, str]] = {}  # rows for the next import
        self._pending_marks = False
        self._actions: list[RecordAction] = []
        self._notices: list[str] = []
        self._sent = 0
        self._read_at = time.monotonic()  # when the rows being sent were last read

    # -- the pass ---------------------------------------------------------------------------

    def dry_run(self, decisions: Sequence[Decision]) -> PassResult:
        actions = [planned_action(self.spec, d) for d in decisions]
        return self._result(actions, dry_run=True, code=ExitCode.OK)

    def apply(self, decisions: Sequence[Decision]) -> PassResult:
        """Reconcile earlier claims, then claim -> send -> mark, window by window."""
        code = ExitCode.OK
        todo: list[Decision] = []
        try:
            for decision in decisions:
                self._first_look(decision, todo)
            for window in chunks(todo, WINDOW):
                self._send_window(window)
            self._write([])
        except _Stop as stop:
            code = stop.code
            self._notices.append(stop.notice)
            self._notices.append("the records not reached are taken up by the next pass")
            self._flush_after_stop()
        return self._result(self._actions, dry_run=False, code=code)

    # -- steps ------------------------------------------------------------------------------

    def _first_look(self, d: Decision, todo: list[Decision]) -> None:
        if d.verdict is Verdict.SEND:
            todo.append(d)
        elif d.verdict is Verdict.RECONCILE:
            released = self._reconcile(d)
            if released is not None:
                todo.append(released)
        else:
            self._settle(d)

    def _reconcile(self, d: Decision) -> Decision | None:
        """Resolve a ``claimed`` claim. Returns the decision to send again, if any."""
        claimed_at = d.claim.at if d.claim else self._now()
        sent = self._call(lambda: self.transport.was_sent(d.key))
        if sent:
            self._mark(d, claimed_at)
            self._act(d.record_id, "reconciled", "the earlier message went out; marked")
            return None
        # Graph files a sent message in Sent Items with a delay: a claim younger than the
        # grace period ([email.graph] sent_items_grace) whose key is not there yet waits.
        grace = timedelta(seconds=self.settings.email.graph.sent_items_grace)
        young = self._now() - claimed_at < grace
        if sent is False and self.transport.name == "graph" and young:
            self._act(d.record_id, "waiting", "claim is recent and not yet in Sent Items")
            return None
        if sent is None and self.transport.name in VERIFIABLE and young:
            self._act(d.record_id, "waiting", "the transport could not answer; next pass")
            return None
        # Past the grace period, "can't tell" (Graph without read access to Sent Items: a
        # set-up problem that won't pass) is treated as SMTP's is, below: participant mail
        # to review, not a record left waiting unseen for ever. Outages and sign-in
        # problems never get here: was_sent raised and the pass stopped.
        if sent is None and self.spec.participant and not self.settings.email.resend_uncertain:
            reason = (
                f"delivery_uncertain: the {self.transport.name} transport cannot tell whether "
                f"message {d.key} went out; check the mailbox, then set "
                f"{self.settings.fields.status} (clear {self.settings.fields.email_claim} to "
                "send again)"
            )
            self._review(d, reason)
            self._act(d.record_id, "review", reason)
            return None
        # Not sent (or uncertain, and sending again is allowed: staff alerts always, since a
        # second alert is harmless and a lost one is not): send under the same key.
        return replace(d, verdict=Verdict.SEND)

    def _settle(self, d: Decision) -> None:
        """Record a decision that sends nothing."""
        if d.verdict is Verdict.ALREADY_SENT:
            self._mark(d, d.claim.at if d.claim else self._now())
            self._act(d.record_id, "already_sent", "claim says sent; marked")
        elif d.verdict is Verdict.REVIEW:
            self._review(d, d.detail)
            dnc = d.detail.startswith("do_not_contact:")
            self._act(d.record_id, "do_not_contact" if dnc else "review", d.detail)
        elif d.verdict is Verdict.SKIP:
            self._act(d.record_id, "skipped", d.detail)
        else:
            self._act(d.record_id, "skipped", f"{d.verdict}: changed since it was selected")

    def _send_window(self, window: Sequence[Decision]) -> None:
        fresh = self._read([d.record_id for d in window])
        jobs: list[_Job] = []
        for d in window:
            row = fresh.get(d.record_id)
            if row is None:
                self._act(d.record_id, "skipped", "record no longer exists")
                continue
            again = decide(self.settings, self.spec, row, key=d.key, resend=d.resend)
            resumed = again.verdict is Verdict.RECONCILE and again.claim == d.claim
            if again.verdict is not Verdict.SEND and not resumed:
                if again.verdict is Verdict.RECONCILE:  # claimed by someone else meanwhile
                    self._act(d.record_id, "skipped", "claimed by another run meanwhile")
                else:
                    self._settle(again)
                continue
            refused = contact_refused(self.settings, self.spec, row) if resumed else ""
            if refused:  # an interrupted send is not resumed for someone who opted out since
                self._settle(replace(again, verdict=Verdict.REVIEW, detail=refused, row=row))
                continue
            job = self._compose(replace(again, verdict=Verdict.SEND, key=d.key))
            if job is not None:
                jobs.append(job)
        verifiable = self.transport.name in VERIFIABLE
        for chunk in chunks(jobs, WINDOW if verifiable else 1):
            self._claim_and_send(chunk)

    def _compose(self, d: Decision) -> _Job | None:
        try:
            message = self.build(self.settings, d.row, d.key)
        except RecipientRejected as exc:
            self._refused_address(d.record_id, exc)
            reason = "email_invalid: the address is not a valid e-mail address"
            self._review(d, reason)
            self._act(d.record_id, "review", reason)
            return None
        except ConfigError as exc:  # a template or the configuration: stop the pass
            raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
        except MailError as exc:
            # This record's data cannot make a safe message (a line break bound for a header).
            if not self.spec.participant:
                raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
            reason = "message_refused: a value for the message holds a line break"
            self._review(d, reason)
            self._act(d.record_id, "review", reason)
            return None
        return _Job(d, d.key, message)

    def _claim_and_send(self, chunk: Sequence[_Job]) -> None:
        now = self._now()
        rows = []
        for job in chunk:
            row = {self.settings.fields.email_claim: claims.claimed(job.key, now)}
            if job.decision.resend:
                # A resend of a record already done steps back to the "to send" status while
                # its claim is open, so a crash leaves it where the next pass reconciles it.
                row[self.settings.fields.status] = self.spec.status_from
            rows.append(self._with_id(job.decision.record_id, row))
        try:
            self._write(rows)
        except _Stop:
            # REDCap may have stored the claims before failing: put the values read back
            # (with the marks still pending) so nothing looks in doubt that was never sent.
            self._release(chunk)
            raise
        crash_point("outreach.after_claim")
        withdrawn: set[str] = set()
        for index, job in enumerate(chunk):
            if time.monotonic() - self._read_at > self.recheck_after:
                withdrawn |= self._recheck(_not_in(chunk[index:], withdrawn))
            if job.decision.record_id in withdrawn:
                continue
            try:
                self.transport.send(job.message)
            except RecipientRejected as exc:
                if self._address_is_configured():
                    self._release(_not_in(chunk[index:], withdrawn))
                self._refused_address(job.decision.record_id, exc)
                reason = "email_invalid: the mail service refused the address"
                self._review(job.decision, reason)
                self._act(job.decision.record_id, "review", reason)
                continue
            except DeliveryUncertain as exc:
                # The service may have accepted it before the answer was lost: keep the claim
                # for the next pass to reconcile; the rest of the chunk was never handed over.
                self._release(_not_in(chunk[index + 1 :], withdrawn))
                self._act(job.decision.record_id, "uncertain", "kept the claim", ok=False)
                raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
            except RecruitError as exc:
                # Unreachable/throttled after the transport's retries, sign-in needed, send-as
                # refused...: this message was not accepted, nor were the rest of the chunk.
                self._release(_not_in(chunk[index:], withdrawn))
                raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
            if job.decision.resend:
                log.warning(
                    "%s: record %s sent again on request (%s)",
                    self.spec.command,
                    job.decision.record_id,
                    job.key,
                )
            self._sent += 1
            self._mark(job.decision, self._now())
            self._act(job.decision.record_id, self.spec.done_action, job.key)
            log.info("%s: record %s sent (%s)", self.spec.command, job.decision.record_id, job.key)
            crash_point("outreach.after_send")

    def _recheck(self, jobs: Sequence[_Job]) -> set[str]:
        """Re-read claimed records not yet sent; withdraw those that opted out or moved.

        Returns the record ids withdrawn: their claims are undone (and an opt-out goes to
        review, as when the pass is planned).
        """
        f = self.settings.fields
        fresh = self._read([job.decision.record_id for job in jobs])
        withdrawn: set[str] = set()
        for job in jobs:
            d = job.decision
            row = fresh.get(d.record_id)
            status = row.get(f.status, "").strip() if row is not None else ""
            refused = contact_refused(self.settings, self.spec, row) if row is not None else ""
            if refused:
                self._review(d, refused)
                self._act(d.record_id, "do_not_contact", refused)
            elif row is None or (status != self.spec.status_from and not d.resend):
                undo = {f.email_claim: d.row.get(f.email_claim, "")}
                self._pending[d.record_id] = self._with_id(d.record_id, undo)
                self._act(d.record_id, "skipped", "changed before its send; not sent")
            else:
                continue
            withdrawn.add(d.record_id)
        return withdrawn

    def _read(self, ids: Sequence[str]) -> dict[str, Row]:
        """Read these records' pass fields afresh, by record id; note when."""
        rows = self._call(
            lambda: self.client.export_records(records=list(ids), fields=list(self.spec.fields))
        )
        self._read_at = time.monotonic()
        return {row.get(self.settings.fields.record_id, ""): row for row in rows}

    # -- REDCap rows ------------------------------------------------------------------------

    def _mark(self, d: Decision, at: datetime) -> None:
        f = self.settings.fields
        row = {
            self.spec.stamp_field: self._stamp(at),
            f.email_claim: claims.sent(d.key, at),
        }
        if self.spec.status_to is not None:
            row[f.status] = self.spec.status_to
        self._pending[d.record_id] = self._with_id(d.record_id, row)
        self._pending_marks = True

    def _review(self, d: Decision, reason: str) -> None:
        """To manual review, the reason appended; the claim goes back to what was read."""
        f = self.settings.fields
        row = {
            f.status: Status.MANUAL_REVIEW.value,
            f.reasons: append_reason(d.row.get(f.reasons, ""), reason),
            # Undo a claim this pass wrote; an earlier pass's claim stays as evidence.
            f.email_claim: d.row.get(f.email_claim, ""),
        }
        self._pending[d.record_id] = self._with_id(d.record_id, row)

    def _release(self, jobs: Sequence[_Job]) -> None:
        """Undo claims for messages that were never handed to the transport."""
        f = self.settings.fields
        for job in jobs:
            row = {f.email_claim: job.decision.row.get(f.email_claim, "")}
            if job.decision.resend:
                row[f.status] = job.decision.row.get(f.status, "")
            self._pending[job.decision.record_id] = self._with_id(job.decision.record_id, row)
            self._act(job.decision.record_id, "not_sent", "pass stopped before this send")

    def _write(self, rows: list[dict[str, str]]) -> None:
        """One import: everything pending (marks, reviews, releases) plus ``rows`` (claims)."""
        batch = dict(self._pending)
        for row in rows:
            batch[row[self.settings.fields.record_id]] = row
        if not batch:
            return
        marks = self._pending_marks
        self._call(lambda: self.client.import_records(list(batch.values()), overwrite=True))
        self._pending.clear()
        self._pending_marks = False
        if marks:
            crash_point("outreach.after_mark")

    def _flush_after_stop(self) -> None:
        try:
            self._write([])
        except _Stop as stop:
            # Sent messages keep their "claimed" claims; the next pass reconciles them.
            self._notices.append(f"{stop.notice} (unmarked sends are reconciled next pass)")

    # -- helpers ----------------------------------------------------------------------------

    def _call(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except RecruitError as exc:
            raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc

    def _with_id(self, rid: str, row: dict[str, str]) -> dict[str, str]:
        return {self.settings.fields.record_id: rid, **row}

    def _address_is_configured(self) -> bool:
        """Whether messages go to a configured address (test recipient, staff) not a person's."""
        return bool(self.settings.email.test_recipient) or not self.spec.participant

    def _refused_address(self, rid: str, exc: RecipientRejected) -> None:
        if self._address_is_configured():
            # Not the participant's address: the configured one is wrong for every record.
            raise _Stop(ExitCode.CONFIG, f"{self.spec.command}: recipient refused: {exc}") from exc
        log.warning("%s: record %s: address refused; to review", self.spec.command, rid)

    def _now(self) -> datetime:
        return self._fixed_now or datetime.now(UTC)

    def _stamp(self, at: datetime) -> str:
        return at.astimezone(self.settings.study.zone()).isoformat(timespec="seconds")

    # A record moved to review is handled, not failed: it is written, with its reason, to
    # the queue staff work from (as screening does with malformed data), so it doesn't
    # make the pass exit 5. ok=False is for records this pass could not bring anywhere.
    def _act(self, rid: str, action: str, detail: str = "", *, ok: bool = True) -> None:
        self._actions.append(RecordAction(rid, action, detail, ok))

    def _result(
        self, actions: Sequence[RecordAction], *, dry_run: bool, code: ExitCode
    ) -> PassResult:
        if any(not a.ok for a in actions):
            code = worst([code, ExitCode.PARTIAL])
        return PassResult(
            command=self.spec.command,
            dry_run=dry_run,
            actions=tuple(actions),
            notices=tuple(self._notices),
            exit_code=code,
            details=(OutreachDetails(self.transport.name, self._sent),),
        )


def run_outreach(
    settings: Settings,
    client: RedcapClient,
    transport: Transport,
    spec: Spec,
    *,
    build: Build,
    records: Sequence[str] | None = None,
    resend: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    recheck_after: float = RECHECK_AFTER,
) -> PassResult:
    """Run one outreach pass of ``spec``'s kind (the body of invite/notify/alert passes).

    ``recheck_after``: see ``Outreach``.

    Raises:
        UsageError: ``--resend`` without records, or a requested record that is unknown,
            in the wrong status, or already done without ``resend``.
        ServiceUnavailable, RedcapError: the selecting export failed (nothing happened).
    """
    if resend and not records:
        raise UsageError("--resend needs --record ID: it never applies to a whole pass")
    calls = client.calls
    fields = list(spec.fields)
    if records:
        rows = client.export_records(records=list(records), fields=fields)
        check_requested(settings, spec, rows, records, resend=resend)
    else:
        rows = client.export_records(fields=fields, filter_logic=spec.filter_logic)
    at = now or datetime.now(UTC)
    decisions = plan_pass(
        settings,
        spec,
        rows,
        keys=lambda row: message_key(settings, row, spec.kind),
        resend=resend,
        now=at,
    )
    engine = Outreach(
        settings, client, transport, spec, build=build, now=now, recheck_after=recheck_after
    )
    result = engine.dry_run(decisions) if dry_run else engine.apply(decisions)
    details = replace(result.detail(OutreachDetails), redcap_calls=client.calls - calls)
    return replace(result, details=(details,))
