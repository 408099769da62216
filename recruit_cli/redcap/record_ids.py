"""Record ids recruit can use, and a safe name for a record whose id it can't.

A REDCap record id is text, and nothing stops one from holding a line break, a tab, an
escape sequence or a bidirectional override (typed by hand, imported, or sent by a hostile
server). Printed, such an id forges lines in a log, a cron e-mail or a terminal; used in a
key, it can't be one; written back, it may not reach the same record: recruit's readers
strip ids (" 12" would be written to record 12), the sandbox trims the ids it imports, and
what REDCap itself does with them on import could not be checked (its source is not
public), so recruit assumes the worst. Surrounding spaces do the same harm more quietly.

So such a row is refused once, where records are read (``RedcapClient.export_records``):
it is left out of what the passes see, and named by its position in REDCap's answer and
by ``safe_key`` (``idhash-`` and 12 hex digits of the id's SHA-256), never by its text.
Nothing is ever written for it. Staff find it in REDCap by its position and the odd
character, and correct it; until then every pass that meets it says so. Its safety alert
still goes out, under the safe key (``outreach.refused_alerts``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from recruit_cli.text import has_unprintable

KEY_PREFIX = "idhash-"


def problem(record_id: str) -> str | None:
    """What makes ``record_id`` unusable ("a control character", ...), or None if it is fine.

    An empty id is not this module's business (the export's own checks refuse it).
    """
    if has_unprintable(record_id):
        return "a control character"
    if record_id != record_id.strip():
        return "spaces around it"
    return None


def safe_key(record_id: str) -> str:
    """A name for the record that can be printed, logged and used in a key."""
    return KEY_PREFIX + hashlib.sha256(record_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]


@dataclass(frozen=True)
class RefusedRecord:
    """A row whose record id recruit refused; ``row`` is kept for its safety check only."""

    key: str  # safe_key(record id)
    position: int  # 1-based row of REDCap's answer
    call: str  # the export, e.g. "content=record action=export"
    problem: str  # "a control character" | "spaces around it"
    row: Mapping[str, str] = field(repr=False, compare=False)

    @property
    def message(self) -> str:
        """What the operator reads: where the record is and what to do, never its id."""
        return (
            f"the record at row {self.position} of REDCap's answer to {self.call} has a "
            f"record id with {self.problem}; recruit leaves it alone (shown as {self.key}): "
            "correct its record id in REDCap"
        )


def split_refused(
    rows: Sequence[Mapping[str, str]], id_field: str | None, call: str
) -> tuple[list[dict[str, str]], list[RefusedRecord]]:
    """The rows recruit can use, and the ones it refuses (see the module docstring).

    ``id_field``: the record id field; None reads each row's first value (REDCap's order).
    """
    usable: list[dict[str, str]] = []
    refused: list[RefusedRecord] = []
    for position, row in enumerate(rows, 1):
        rid = row.get(id_field, "") if id_field is not None else next(iter(row.values()), "")
        why = problem(rid) if isinstance(rid, str) else None
        if why is None:
            usable.append(dict(row))
        else:
            refused.append(RefusedRecord(safe_key(rid), position, call, why, dict(row)))
    return usable, refused
