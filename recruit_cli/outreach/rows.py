"""What an outreach pass writes to REDCap, and the buffer that writes it.

The rows: the intent (``x``) and claim (``y``) of ``outreach.acquire``, the mark after a
send, a move to manual review, and a release (a claim put back as it was read). ``Ledger``
keeps marks, reviews and releases pending until the pass's next import, so they ride with
the next window's first write (one REDCap call does both), and sends every import through
the one write path (``redcap.writes.RecordWriter``: pipeline fields only, records the pass
read, bisected when REDCap refuses one).

Who may write the claim field: only a run that holds the record (``acquire``) writes
``y`` after claiming it. A row for a record this pass does not hold (a do-not-contact
review found before claiming, a mark for a claim that already says ``sent``) leaves the
claim field out: a blind write could erase another run's claim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from recruit_cli.exit_codes import ExitCode
from recruit_cli.faultpoints import crash_point
from recruit_cli.outreach import claims
from recruit_cli.outreach.plan import Decision, Spec, append_reason
from recruit_cli.redcap.writes import RecordWriter, WriteOutcome
from recruit_cli.settings import Settings, Status

Row = dict[str, str]


@dataclass(frozen=True)
class Refusal:
    """A row REDCap kept refusing, and what it was for."""

    record_id: str
    what: str  # "intent" | "claim" | "mark" | "review" | "release"
    reason: str  # REDCap's words


class Ledger:
    """The pending rows of one outreach pass, written through the one write path.

    Args:
        settings: The study settings (field names, time zone).
        spec: The pass.
        writer: The pass's ``RecordWriter`` (knows which records the pass read).
        on_refused: Told of every row REDCap kept refusing.
    """

    def __init__(
        self,
        settings: Settings,
        spec: Spec,
        writer: RecordWriter,
        on_refused: Callable[[Refusal], None],
    ) -> None:
        self.settings = settings
        self.spec = spec
        self.writer = writer
        self.on_refused = on_refused
        self._pending: dict[str, tuple[str, Row]] = {}  # record id -> (what, row)
        self.refused_all = False  # some import had every one of several records refused
        self.notices: list[str] = []

    # -- rows for the next import ------------------------------------------------------------

    def mark(self, d: Decision, at: datetime, *, holder: bool) -> None:
        """The message went out: the status, the timestamp and (holder) ``sent`` claim."""
        f = self.settings.fields
        row = {self.spec.stamp_field: self.stamp(at)}
        if holder:
            row[f.email_claim] = claims.sent(d.key, at)
        if self.spec.status_to is not None:
            row[f.status] = self.spec.status_to
        self._queue(d.record_id, "mark", row)

    def review(self, d: Decision, reason: str, *, holder: bool) -> None:
        """To manual review, the reason appended; a holder puts the claim back as read (an
        earlier run's claim stays as evidence, this run's is undone)."""
        f = self.settings.fields
        row = {
            f.status: Status.MANUAL_REVIEW.value,
            f.reasons: append_reason(d.row.get(f.reasons, ""), reason),
        }
        if holder:
            row[f.email_claim] = d.row.get(f.email_claim, "")
        self._queue(d.record_id, "review", row)

    def release(self, d: Decision) -> None:
        """A held record this pass does not finish: its claim (and for a resend, its
        status) back as read, so the next pass finds it as this one did."""
        f = self.settings.fields
        row = {f.email_claim: d.row.get(f.email_claim, "")}
        if d.resend:
            row[f.status] = d.row.get(f.status, "")
        self._queue(d.record_id, "release", row)

    def forget(self, record_id: str) -> None:
        """Drop a pending row (a release made moot by a later decision)."""
        self._pending.pop(record_id, None)

    def stamp(self, at: datetime) -> str:
        return at.astimezone(self.settings.study.zone()).isoformat(timespec="seconds")

    # -- the import ----------------------------------------------------------------------------

    def flush(self, rows: Sequence[Row] = (), what: str = "claim") -> WriteOutcome:
        """One import: every pending row plus ``rows`` (all of kind ``what``).

        Raises what ``RecordWriter.write`` raises (REDCap unavailable, a refused token, a
        guard broken); the pending rows then stay pending.
        """
        batch: dict[str, tuple[str, Row]] = dict(self._pending)
        id_field = self.settings.fields.record_id
        for row in rows:
            batch[row[id_field]] = (what, row)
        if not batch:
            return WriteOutcome()
        out = self.writer.write(
            [{id_field: rid, **row} for rid, (_, row) in batch.items()], overwrite=True
        )
        marks = any(kind == "mark" for kind, _ in self._pending.values())
        self._pending.clear()
        if out.all_refused and not self.refused_all:
            self.refused_all = True
            first = next(iter(out.refused.values()))
            self.notices.append(f"{self.spec.command}: every record was refused: {first}")
        for rid, reason in out.refused.items():
            self.on_refused(Refusal(rid, batch[rid][0], reason))
        if marks:
            crash_point("outreach.after_mark")
        return out

    @property
    def exit_code(self) -> ExitCode:
        """REFUSED when REDCap refused every record of some import (the project, not one
        record), else OK (single refusals are reported per record)."""
        return ExitCode.REFUSED if self.refused_all else ExitCode.OK

    def _queue(self, rid: str, what: str, row: Row) -> None:
        self._pending[rid] = (what, row)
