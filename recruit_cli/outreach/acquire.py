"""Claiming a window of records so that no two recruit runs ever both send one.

REDCap has no compare-and-set, so two runs (two hosts, or two state directories on one)
can both read a record as unsent and both claim it. This is Lamport's fast mutual
exclusion (L. Lamport, "A Fast Mutual Exclusion Algorithm", ACM TOCS 5(1), 1987): two
registers per record, no waiting and no timing assumption on the way in. The registers are
two pipeline fields: ``x``, the intent field (``<run id>|<time>``), and ``y``, the claim
field (``<key>|<state>|<time>|<run id>``). Each pass has its own random run id. For a
window of records, one import or export per step, all records at once:

1. **W(x)**: write ``x := <run id>|<now>``.
2. **R(y)**: re-read the window and decide each record again (status, do-not-contact,
   address, claim). ``y`` is *taken* when it holds another run's ``reserved``/``claimed``
   claim younger than the lease: that record is left alone ("another recruit run holds
   it"). Otherwise it is free: blank, ``sent`` (history, or done: handled as always), or
   a stale claim of a run that stopped, which this run reconciles once it holds it.
3. **W(y)**: write this run's claim for the records still to send.
4. **R(x)**: read ``x`` back. Where it is still this run's, the run **holds** the record.
   Where another run's id is there, this run **backs off**: it sends nothing for the
   record this pass and writes nothing more to its fields (a blind write could erase the
   other run's claim). The record waits until its claim is stale (the lease), the rare
   contended case.

Why two runs never both hold a record: say runs i and j both do. Each wrote x, read y
free, wrote y, and read its own x back. Order their writes of x, j's first. j read its own
x back, so j's R(x) came before i's W(x); so j's W(y) came before i's R(y), and i read j's
young claim and left the record: a contradiction. Symmetrically if i's came first.

What the proof assumes, and how recruit keeps it true:

- **REDCap is one consistent store**: a read that starts after a write's answer sees that
  write. True of a single REDCap server (one MySQL database), not of a read replica.
- **A write lands before its answer, never after.** REDCap can apply a request whose
  answer was lost and then the retry too: harmless for ``y``, which only this run writes
  until it is done, but a late copy of ``x`` landing after another run's ``x`` breaks the
  proof. So when the intent import needed a retry, the run backs off the whole window
  (nothing claimed; the records are free for the next pass).
- **Only a holder writes y again** (``outreach.rows``), and only while its claim holds:
  a run sends and writes ``y`` only while its claim is younger than ``LEASE_USABLE`` of
  ``[email] claim_lease_minutes`` on its own monotonic clock; the rest of the lease covers
  hosts' clocks disagreeing and a send in flight. A pass still sending then stops, and its
  remaining claims expire into a later pass's hands. (The mark written after an accepted
  send is the one exception: it only ever records what happened.)
- **Every sender runs this protocol**: a recruit older than the intent field doesn't.

States: over the outbox and Graph, which can tell afterwards whether a key went out, step
3 writes ``claimed``; a stale ``claimed`` is reconciled with ``was_sent``. SMTP can't tell,
so step 3 writes ``reserved`` (never handed to the transport: a stale one is sent again),
and each message is ``claimed`` on its own right before it is handed over (the engine).
A stale ``claimed`` being taken over is claimed again as ``claimed``, never ``reserved``:
it may have gone out, and a crash must not make it look as if it had not.

Cost: 2 imports and 2 exports per window, no waits. Crash points ``outreach.after_intent``
(after step 1), ``outreach.after_claim`` (after step 3), ``outreach.after_hold`` (step 4).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from recruit_cli.faultpoints import crash_point
from recruit_cli.outreach import claims
from recruit_cli.outreach.claims import ClaimState
from recruit_cli.outreach.plan import Decision, Row, Spec, Verdict, contact_refused
from recruit_cli.outreach.rows import Ledger
from recruit_cli.settings import Settings

log = logging.getLogger("recruit.outreach")

# A run uses its claims for this share of the lease; the rest covers clocks that disagree
# between hosts and a send still in flight when the time ran out.
LEASE_USABLE = 0.75

BACKED_OFF = (
    "backed off: another recruit run was claiming it at the same moment; a later pass "
    "takes it once [email] claim_lease_minutes have passed"
)

Read = Callable[[Sequence[str]], dict[str, Row]]  # record ids -> rows read afresh
Redecide = Callable[[Decision, Row], Decision]  # the first decision, the fresh row -> again
Report = Callable[[str, str, str], None]  # (record id, action, detail), ok=True


@dataclass(frozen=True)
class Held:
    """A record this run holds: it alone may send to it and write its claim field."""

    decision: Decision  # as decided on step 2's read: SEND, or RECONCILE a stale claim
    row: Row  # step 4's read (status and do-not-contact as of just now)
    claimed_at: float  # time.monotonic() when the claim was made (its age, locally)


class Acquirer:
    """Runs steps 1-4 for a window; see the module docstring.

    Args:
        settings, spec: The study and the pass.
        run: This pass's run id.
        ledger: Where rows go (pending marks ride with step 1's import).
        read: Reads records afresh (the pass's fields and the intent field).
        redecide: Decides a record again on a fresh row.
        settle: Records a decision that sends nothing (review, mark, skip).
        report: Tells a record's outcome when it is left alone.
        verifiable: Whether the transport can tell afterwards if a key went out.
        now: The time written into the registers.
    """

    def __init__(
        self,
        settings: Settings,
        spec: Spec,
        *,
        run: str,
        ledger: Ledger,
        read: Read,
        redecide: Redecide,
        settle: Callable[[Decision], None],
        report: Report,
        verifiable: bool,
        now: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.run = run
        self.ledger = ledger
        self.read = read
        self.redecide = redecide
        self.settle = settle
        self.report = report
        self.verifiable = verifiable
        self.now = now

    def acquire(self, window: Sequence[Decision]) -> list[Held]:
        """Claim ``window``; return the records this run holds, in window order.

        Raises what the ledger and ``read`` raise (REDCap unavailable...); claims written
        by then are left to expire: without step 4 this run can't know it holds them.
        """
        todo = self.check(self.intend(window))
        return self.confirm(*self.claim(todo)) if todo else []

    def intend(self, window: Sequence[Decision]) -> list[Decision]:
        """Step 1, W(x). Returns the records to go on with (those REDCap took the intent of).

        Marks, reviews and releases pending from the last window ride along.
        """
        f = self.settings.fields
        ids = [d.record_id for d in window]
        stamp = claims.intent(self.run, self.now())
        rows = [{f.record_id: rid, f.email_intent: stamp} for rid in ids]
        out = self.ledger.flush(rows, what="intent")
        crash_point("outreach.after_intent")
        if out.retried:
            for rid in ids:
                if rid not in out.refused:
                    self.report(rid, "skipped", "REDCap answered the claim only on a retry")
            return []
        return [d for d in window if d.record_id not in out.refused]

    def check(self, window: Sequence[Decision]) -> list[Decision]:
        """Step 2, R(y): read the window afresh and decide again. Returns what to claim."""
        fresh = self.read([d.record_id for d in window]) if window else {}
        todo: list[Decision] = []
        for d in window:
            row = fresh.get(d.record_id)
            if row is None:
                self.report(d.record_id, "skipped", "record no longer exists")
                continue
            again = self.redecide(d, row)
            refused = contact_refused(self.settings, self.spec, row)
            if again.verdict is Verdict.RECONCILE and refused:
                # An interrupted send is not resumed for someone who opted out since; the
                # open claim stays as evidence of what may have gone out.
                self.settle(replace(again, verdict=Verdict.REVIEW, detail=refused))
            elif again.verdict in (Verdict.SEND, Verdict.RECONCILE):
                todo.append(again)
            else:
                self.settle(again)
        return todo

    def claim(self, todo: Sequence[Decision]) -> tuple[list[Decision], float]:
        """Step 3, W(y). Returns the records claimed and when (``time.monotonic()``)."""
        at, claimed_at = self.now(), time.monotonic()
        out = self.ledger.flush([self._claim_row(d, at) for d in todo])
        crash_point("outreach.after_claim")
        return [d for d in todo if d.record_id not in out.refused], claimed_at

    def confirm(self, todo: Sequence[Decision], claimed_at: float) -> list[Held]:
        """Step 4, R(x): the records whose intent is still this run's are held; from the
        others this run backs off."""
        f = self.settings.fields
        fresh = self.read([d.record_id for d in todo]) if todo else {}
        crash_point("outreach.after_hold")
        held: list[Held] = []
        for d in todo:
            row = fresh.get(d.record_id, {})
            if claims.parse_intent(row.get(f.email_intent, "")) == self.run:
                held.append(Held(d, row, claimed_at))
            else:
                log.info("%s: record %s: backed off (another run)", self.spec.command, d.record_id)
                self.report(d.record_id, "skipped", BACKED_OFF)
        return held

    def _claim_row(self, d: Decision, at: datetime) -> dict[str, str]:
        f = self.settings.fields
        found = d.claim if d.verdict is Verdict.RECONCILE else None
        if found is not None and found.state is ClaimState.CLAIMED:
            state = ClaimState.CLAIMED  # it may have gone out: never make it look unsent
        else:
            state = ClaimState.CLAIMED if self.verifiable else ClaimState.RESERVED
        row = {
            f.record_id: d.record_id,
            f.email_claim: claims.Claim(d.key, state, at, self.run).format(),
        }
        if d.resend:
            # A resend of a record already done steps back to the "to send" status while its
            # claim is open, so a crash leaves it where a later pass reconciles it.
            row[f.status] = self.spec.status_from
        return row
