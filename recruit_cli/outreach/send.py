"""The one claim -> send -> mark engine that invite, notify and safety alerts share.

See the package docstring (``recruit_cli.outreach``) for the exactly-once argument. Per
window of records:

1. CLAIM (``outreach.acquire``): the window is claimed against every other recruit run
   (Lamport's fast mutual exclusion: intent, re-read and decide again, claim, read back);
   only the records this run holds go on;
2. RECONCILE a stale claim this run took over: ask the transport whether its key went out;
3. SEND each message through the transport (over SMTP, each is first ``claimed`` on its
   own: SMTP can't tell afterwards whether it sent);
4. MARK: status, timestamp and ``<key>|sent|<now>``, written with the next window's first
   import or at the end of the pass (``outreach.rows``).

A crash anywhere leaves either no claim (nothing was sent), an open claim (once its lease
runs out, a later pass reconciles it) or a ``sent`` claim (nothing to do but the mark).
Crash points: ``outreach.after_intent``, ``outreach.after_claim``, ``outreach.after_hold``,
``outreach.after_send``, ``outreach.after_mark``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from recruit_cli.chunks import chunks
from recruit_cli.errors import (
    ConfigError,
    DeliveryUncertain,
    MailError,
    RecipientRejected,
    RecruitError,
)
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.faultpoints import crash_point
from recruit_cli.mail.message import OutgoingMessage, Transport
from recruit_cli.outreach import claims
from recruit_cli.outreach.acquire import LEASE_USABLE, Acquirer, Held
from recruit_cli.outreach.claims import ClaimState, Lease
from recruit_cli.outreach.plan import (
    Decision,
    Row,
    Spec,
    Verdict,
    contact_refused,
    decide,
    planned_action,
)
from recruit_cli.outreach.result import Tally
from recruit_cli.outreach.rows import Ledger, Refusal
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.redcap.writes import RecordWriter
from recruit_cli.results import PassResult
from recruit_cli.settings import Settings

log = logging.getLogger("recruit.outreach")

# Records claimed per window. Over the outbox and Graph a window is claimed in 4 REDCap
# calls whatever its size, and a crash leaves its claims to be reconciled exactly. Over
# SMTP each message costs an import of its own anyway, and a crash leaves a window's
# ``reserved`` claims waiting for the lease, so its windows are smaller.
WINDOW = 100
SMTP_WINDOW = 20
# Transports whose ``was_sent`` can answer; unknown transports are treated like SMTP.
VERIFIABLE = frozenset({"outbox", "graph"})
# Do-not-contact is checked before every send. A window is read just before its sends
# (step 4 of the claim); when sending it takes longer than this (Graph's pacing: 2 s a
# message at 30 a minute), the records not yet sent are read again before the next send.
RECHECK_AFTER = 5.0  # seconds

_T = TypeVar("_T")
Build = Callable[[Settings, Row, str], OutgoingMessage]  # (settings, row, key) -> message


class _Stop(Exception):
    """Ends the sending part of a pass; what was sent is still marked.

    ``release``: whether the held records not yet sent are released (their claims put back
    as read); False when this run may no longer write them (its claims are too old).
    """

    def __init__(self, code: ExitCode, notice: str, *, release: bool = True) -> None:
        super().__init__(notice)
        self.code = code
        self.notice = notice
        self.release = release


@dataclass(frozen=True)
class _Job:
    held: Held
    decision: Decision  # SEND, under the key to send with
    message: OutgoingMessage


class Outreach:
    """One pass of one kind of mail: decide, then claim -> send -> mark, window by window.

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
        read_ids: Sequence[str],
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
        self.run = claims.new_run_id()
        self.verifiable = transport.name in VERIFIABLE
        self.tally = Tally(spec.command)
        writer = RecordWriter.for_pass(client, settings, read_ids)
        self.ledger = Ledger(settings, spec, writer, self._refused)
        self.acquirer = Acquirer(
            settings,
            spec,
            run=self.run,
            ledger=self.ledger,
            read=self._read,
            redecide=self._redecide,
            settle=self._settle,
            report=self.tally.act,
            verifiable=self.verifiable,
            now=self._now,
        )
        self._open: dict[str, Held] = {}  # held records this pass has not finished with
        self._read_at = time.monotonic()  # when the rows being sent were last read

    # -- the pass ---------------------------------------------------------------------------

    def dry_run(self, decisions: Sequence[Decision]) -> PassResult:
        for d in decisions:
            self.tally.add(planned_action(self.spec, d))
        return self.tally.result(self.transport.name, dry_run=True, code=ExitCode.OK)

    def apply(self, decisions: Sequence[Decision]) -> PassResult:
        """Claim, send and mark window by window (settling the rest on the way)."""
        code = ExitCode.OK
        todo = [d for d in decisions if d.verdict in (Verdict.SEND, Verdict.RECONCILE)]
        for d in decisions:
            if d.verdict not in (Verdict.SEND, Verdict.RECONCILE):
                self._settle(d)
        try:
            for window in chunks(todo, WINDOW if self.verifiable else SMTP_WINDOW):
                self._window(window)
            self._call(self.ledger.flush)
        except _Stop as stop:
            code = stop.code
            self.tally.notices.append(stop.notice)
            self.tally.notices.append("the records not reached are taken up by a later pass")
            if stop.release:
                for h in list(self._open.values()):
                    self._release(h.decision, "not_sent", "pass stopped before this send")
            self._flush_after_stop()
        code = worst([code, self.ledger.exit_code])
        self.tally.notices.extend(self.ledger.notices)
        return self.tally.result(self.transport.name, dry_run=False, code=code)

    # -- steps ------------------------------------------------------------------------------

    def _window(self, window: Sequence[Decision]) -> None:
        self._open = {}
        held = self._call(lambda: self.acquirer.acquire(window))
        self._read_at = time.monotonic()
        self._open = {h.decision.record_id: h for h in held}
        jobs: list[_Job] = []
        for h in held:
            if self._withdrawn(h, h.row):
                continue
            d = self._reconcile(h) if h.decision.verdict is Verdict.RECONCILE else h.decision
            if d.verdict is Verdict.SEND:
                job = self._compose(h, d)
                if job is not None:
                    jobs.append(job)
        for index, job in enumerate(jobs):
            if job.decision.record_id not in self._open:
                continue  # withdrawn by a re-read
            self._check_lease(job.held)
            if time.monotonic() - self._read_at > self.recheck_after:
                self._recheck([j for j in jobs[index:] if j.decision.record_id in self._open])
                if job.decision.record_id not in self._open:
                    continue
            self._send(job)

    def _redecide(self, first: Decision, row: Row) -> Decision:
        """Decide again on a fresh row, under the key first planned (a resend's stays)."""
        lease = self._lease()
        return decide(
            self.settings, self.spec, row, key=first.key, lease=lease, resend=first.resend
        )

    def _reconcile(self, h: Held) -> Decision:
        """Resolve the stale open claim this run took over. Returns the decision: SEND
        (under the claim's key) or SKIP (marked, moved to review or released)."""
        d = h.decision
        done = replace(d, verdict=Verdict.SKIP)
        found = d.claim
        if found is None or found.state is ClaimState.RESERVED:
            # Reserved: the stopped run never handed it to the transport: send it now.
            return replace(d, verdict=Verdict.SEND)
        sent = self._call(lambda: self.transport.was_sent(d.key))
        if sent:
            self._finish(d.record_id)
            self.ledger.mark(d, found.at, holder=True)
            self.tally.act(d.record_id, "reconciled", "the earlier message went out; marked")
            return done
        # Graph files a sent message in Sent Items with a delay: a claim younger than the
        # grace period ([email.graph] sent_items_grace) whose key is not there yet waits.
        grace = timedelta(seconds=self.settings.email.graph.sent_items_grace)
        young = self._now() - found.at < grace
        if sent is False and self.transport.name == "graph" and young:
            self._release(d, "waiting", "claim is recent and not yet in Sent Items")
            return done
        if sent is None and self.verifiable and young:
            self._release(d, "waiting", "the transport could not answer; next pass")
            return done
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
            return done
        # Not sent (or uncertain, and sending again is allowed: staff alerts always, since a
        # second alert is harmless and a lost one is not): send under the same key.
        return replace(d, verdict=Verdict.SEND)

    def _settle(self, d: Decision) -> None:
        """Record a decision that sends nothing (this run does not hold the record)."""
        if d.verdict is Verdict.ALREADY_SENT:
            self.ledger.mark(d, d.claim.at if d.claim else self._now(), holder=False)
            self.tally.act(d.record_id, "already_sent", "claim says sent; marked")
        elif d.verdict is Verdict.REVIEW:
            self.ledger.review(d, d.detail, holder=False)
            dnc = d.detail.startswith("do_not_contact:")
            self.tally.act(d.record_id, "do_not_contact" if dnc else "review", d.detail)
        elif d.verdict in (Verdict.SKIP, Verdict.TAKEN):
            self.tally.act(d.record_id, "skipped", d.detail)
        else:
            self.tally.act(d.record_id, "skipped", f"{d.verdict}: changed since it was selected")

    def _compose(self, h: Held, d: Decision) -> _Job | None:
        try:
            message = self.build(self.settings, h.row, d.key)
        except RecipientRejected as exc:
            self._refused_address(d.record_id, exc)
            self._review(d, "email_invalid: the address is not a valid e-mail address")
            return None
        except ConfigError as exc:  # a template or the configuration: stop the pass
            raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
        except MailError as exc:
            # This record's data cannot make a safe message (a line break bound for a header).
            if not self.spec.participant:
                raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
            self._review(d, "message_refused: a value for the message holds a line break")
            return None
        return _Job(h, d, message)

    def _send(self, job: _Job) -> None:
        d = job.decision
        if not self.verifiable:
            # SMTP can't tell afterwards whether it sent: claim this one message right
            # before handing it over (the window's claim said "reserved": not handed over).
            f = self.settings.fields
            claim = claims.claimed(d.key, self._now(), self.run)
            row = {f.record_id: d.record_id, f.email_claim: claim}
            if d.resend:
                row[f.status] = self.spec.status_from
            out = self._call(lambda: self.ledger.flush([row]))
            crash_point("outreach.after_claim")
            if d.record_id in out.refused:
                self._finish(d.record_id)  # not sent; reported; its reserved claim expires
                return
        try:
            self.transport.send(job.message)
        except RecipientRejected as exc:
            self._refused_address(d.record_id, exc)
            self._review(d, "email_invalid: the mail service refused the address")
            return
        except DeliveryUncertain as exc:
            # The service may have accepted it before the answer was lost: keep the claim
            # for a later pass to reconcile; the rest of the window was never handed over.
            self._finish(d.record_id)
            self.tally.act(d.record_id, "uncertain", "kept the claim", ok=False)
            raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
        except RecruitError as exc:
            # Unreachable/throttled after the transport's retries, sign-in needed, send-as
            # refused...: this message was not accepted, nor were the rest of the window.
            raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc
        if d.resend:
            log.warning(
                "%s: record %s sent again on request (%s)", self.spec.command, d.record_id, d.key
            )
        self.tally.sent += 1
        self._finish(d.record_id)
        self.ledger.mark(d, self._now(), holder=True)
        self.tally.act(d.record_id, self.spec.done_action, d.key)
        log.info("%s: record %s sent (%s)", self.spec.command, d.record_id, d.key)
        crash_point("outreach.after_send")

    def _check_lease(self, h: Held) -> None:
        """Stop before a send once this run's claim is too old to rely on (``acquire``)."""
        usable = self.settings.email.claim_lease_minutes * 60 * LEASE_USABLE
        if time.monotonic() - h.claimed_at >= usable:
            raise _Stop(
                ExitCode.OK,
                f"{self.spec.command}: stopped sending: this pass's claims are older than "
                f"{LEASE_USABLE:.0%} of [email] claim_lease_minutes",
                release=False,
            )

    def _recheck(self, jobs: Sequence[_Job]) -> None:
        """Re-read the held records not yet sent; withdraw those that opted out or moved."""
        fresh = self._read([j.decision.record_id for j in jobs])
        for job in jobs:
            row = fresh.get(job.decision.record_id)
            if row is None:
                self._release(job.decision, "skipped", "record no longer exists")
            else:
                self._withdrawn(job.held, row)

    def _withdrawn(self, h: Held, row: Row) -> bool:
        """Withdraw a held record that opted out or moved on since it was decided (``row``:
        read right before a send). True when withdrawn."""
        d = h.decision
        status = row.get(self.settings.fields.status, "").strip()
        refused = contact_refused(self.settings, self.spec, row)
        if refused:
            self._review(d, refused)
        elif status != self.spec.status_from and not d.resend:
            self._release(d, "skipped", "changed before its send; not sent")
        else:
            return False
        return True

    def _read(self, ids: Sequence[str]) -> dict[str, Row]:
        """Read these records' pass fields (and the intent field) afresh, by record id."""
        f = self.settings.fields
        fields = [*self.spec.fields, f.email_intent]
        rows = self._call(lambda: self.client.export_records(records=list(ids), fields=fields))
        self._read_at = time.monotonic()
        return {row.get(f.record_id, ""): row for row in rows}

    # -- what goes back to REDCap -----------------------------------------------------------

    def _finish(self, rid: str) -> None:
        self._open.pop(rid, None)

    def _release(self, d: Decision, action: str, detail: str) -> None:
        """A held record not sent: its claim back as read (see ``Ledger.release``)."""
        self._finish(d.record_id)
        self.ledger.release(d)
        self.tally.act(d.record_id, action, detail)

    def _review(self, d: Decision, reason: str) -> None:
        """A held record to manual review, its claim back as read."""
        self._finish(d.record_id)
        self.ledger.review(d, reason, holder=True)
        dnc = reason.startswith("do_not_contact:")
        self.tally.act(d.record_id, "do_not_contact" if dnc else "review", reason)

    def _refused(self, refusal: Refusal) -> None:
        rid, what = refusal.record_id, refusal.what
        said = f"REDCap refused the {what}: {refusal.reason}"
        if what == "mark":
            self.tally.act(rid, "failed", f"sent, but {said}; a later pass marks it", ok=False)
        elif what in ("intent", "claim"):
            self.tally.act(rid, "failed", f"not sent: {said}", ok=False)
        else:
            self.tally.act(rid, "failed", f"not written: {said}", ok=False)

    def _flush_after_stop(self) -> None:
        try:
            self._call(self.ledger.flush)
        except _Stop as stop:
            # Sent messages keep their open claims; a later pass reconciles them.
            self.tally.notices.append(f"{stop.notice} (unmarked sends are reconciled later)")

    # -- helpers ----------------------------------------------------------------------------

    def _call(self, fn: Callable[[], _T]) -> _T:
        try:
            return fn()
        except RecruitError as exc:
            raise _Stop(exc.exit_code, f"{self.spec.command}: {exc}") from exc

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

    def _lease(self) -> Lease:
        return Lease(self._now(), self.settings.email.claim_lease_minutes)
