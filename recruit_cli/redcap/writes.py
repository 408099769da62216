"""The one way a pass writes records to REDCap: ``RecordWriter``.

Screen, assign and outreach (claims, marks, reviews, releases) import through it and
through nothing else, so what it guarantees holds for every write recruit makes:

- **Pipeline fields only.** A row may hold the record id and the fields recruit owns
  (``FieldMap.written``); anything else (an answer, the address, the safety
  acknowledgement staff set) is a bug, refused before any request.
- **Only records the pass read.** The writer is made with the record ids the pass read
  from REDCap; a row for any other id is a bug, refused before any request. REDCap would
  otherwise create the record: a phantom participant made of pipeline fields.
- **Batched** by ``[redcap] batch_size``.
- **Bisecting on refusal.** REDCap refuses a whole import when one row is bad (a locked
  record, a value its validation refuses), so a refused batch is split until the bad
  records stand alone: one bad record never blocks the others. It costs about
  2·log2(n) extra calls per bad record, and only when there is one. Each record REDCap
  keeps refusing is reported with REDCap's own words; the caller does everything else and
  exits 5 (``ExitCode.PARTIAL``).
- **REDCap's count verified** (``RedcapClient.import_records``): an import REDCap answers
  with another count than the records sent is a refusal too, and is bisected the same way,
  so the record REDCap did not count is the one reported.

What is not one record's fault is raised: a refused token or a field the project lacks
(every batch would fail alike), and REDCap becoming unavailable (``ServiceUnavailable``;
``written`` and ``refused`` then say what earlier batches did).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recruit_cli.chunks import chunks
from recruit_cli.errors import ProjectMismatch, RedcapError, RedcapTokenRejected, UnsafeWrite

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import FieldMap, Settings

Row = Mapping[str, str]


@dataclass(frozen=True)
class WriteOutcome:
    """What one ``RecordWriter.write`` did with its rows."""

    written: tuple[str, ...] = ()  # record ids REDCap stored (and counted)
    refused: Mapping[str, str] = field(default_factory=dict)  # record id -> REDCap's words
    calls: int = 0  # imports made (bisection included)
    attempts: int = 0  # HTTP attempts made (retries of transient failures included)

    @property
    def retried(self) -> bool:
        """Whether some import was sent more than once: REDCap may have applied a copy of it
        later than the answer that came back (outreach's registers care; see acquire)."""
        return self.attempts > self.calls

    @property
    def all_refused(self) -> bool:
        """Every one of several records refused: the project, not one record (exit 7)."""
        return not self.written and len(self.refused) > 1


class RecordWriter:
    """Imports a pass's rows (see the module docstring for what it guarantees).

    Args:
        client: The REDCap client.
        fields: The study's field map (the record id field, the pipeline fields).
        read: The record ids this pass read from REDCap: the only ones it may write.
        batch_size: Records per import call.
    """

    def __init__(
        self, client: RedcapClient, fields: FieldMap, *, read: Collection[str], batch_size: int
    ) -> None:
        self.client = client
        self.fields = fields
        self.read = frozenset(read)
        self.batch_size = max(1, batch_size)
        self.allowed = fields.written() | {fields.record_id}
        self.written: list[str] = []  # over the writer's life, in order
        self.refused: dict[str, str] = {}
        self.calls = 0

    @classmethod
    def for_pass(
        cls, client: RedcapClient, settings: Settings, read: Collection[str]
    ) -> RecordWriter:
        """A writer for one pass of ``settings``' study that read ``read``."""
        return cls(client, settings.fields, read=read, batch_size=settings.redcap.batch_size)

    def write(self, rows: Sequence[Row], *, overwrite: bool) -> WriteOutcome:
        """Import ``rows`` (at most one per record) in batches, isolating refused records.

        Args:
            rows: Flat rows: the record id field and pipeline fields only.
            overwrite: REDCap's ``overwriteBehavior``: with True a blank value erases what
                REDCap holds (to clear a field); with False blanks leave it.

        Raises:
            UnsafeWrite: a row holds another field, a record id this pass did not read, or
                repeats a record; nothing at all is sent.
            RedcapTokenRejected, ProjectMismatch: every batch would be refused alike.
            ServiceUnavailable: REDCap became unavailable; earlier batches were written.
        """
        self.check(rows)
        written: list[str] = []
        refused: dict[str, str] = {}
        calls, attempts = self.calls, self.client.calls
        for batch in chunks(rows, self.batch_size):
            self._bisect(batch, overwrite, written, refused)
        self.written.extend(written)
        self.refused.update(refused)
        return WriteOutcome(
            tuple(written),
            refused,
            calls=self.calls - calls,
            attempts=self.client.calls - attempts,
        )

    def check(self, rows: Sequence[Row]) -> None:
        """Refuse, before any request, a row this pass must never import.

        Raises:
            UnsafeWrite: naming the row's position and the field or record id at fault.
        """
        id_field = self.fields.record_id
        seen: set[str] = set()
        for index, row in enumerate(rows):
            rid = row.get(id_field, "")
            where = f"row {index + 1} of an import"
            if not isinstance(rid, str) or not rid:
                raise UnsafeWrite(f"{where} has no {id_field}: nothing was written")
            if rid not in self.read:
                raise UnsafeWrite(
                    f"{where} is for record {rid!r}, which this pass did not read from "
                    "REDCap (it would create a record): nothing was written"
                )
            if rid in seen:
                raise UnsafeWrite(f"{where} repeats record {rid!r}: nothing was written")
            seen.add(rid)
            other = sorted(set(row) - self.allowed)
            if other:
                raise UnsafeWrite(
                    f"{where} (record {rid!r}) holds {', '.join(other)}, which recruit never "
                    "writes (only pipeline fields): nothing was written"
                )

    def _bisect(
        self, rows: Sequence[Row], overwrite: bool, written: list[str], refused: dict[str, str]
    ) -> None:
        if not rows:
            return
        self.calls += 1
        try:
            self.client.import_records(rows, overwrite=overwrite)
        except (RedcapTokenRejected, ProjectMismatch):
            raise
        except RedcapError as exc:
            if len(rows) == 1:
                refused[rows[0][self.fields.record_id]] = str(exc)
                return
            middle = len(rows) // 2
            self._bisect(rows[:middle], overwrite, written, refused)
            self._bisect(rows[middle:], overwrite, written, refused)
            return
        written.extend(row[self.fields.record_id] for row in rows)
