"""The write path to REDCap: an import that isolates the records REDCap refuses.

REDCap refuses a whole import when one row is bad; ``import_bisecting`` splits the batch
until the bad records stand alone, so one locked record doesn't block a thousand good ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recruit_cli.errors import RedcapError, RedcapTokenRejected

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient


@dataclass
class ImportOutcome:
    """What happened to the rows of one logical import (split on refusal)."""

    written: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # record id -> REDCap's message
    calls: int = 0


def import_bisecting(
    client: RedcapClient,
    rows: Sequence[Mapping[str, str]],
    *,
    id_field: str,
    overwrite: bool,
    out: ImportOutcome | None = None,
) -> ImportOutcome:
    """Import ``rows``; when REDCap refuses the batch, split it to isolate the bad records.

    REDCap rejects a whole import when one row is bad (a locked record, a value its
    validation refuses), so one bad record must not block a thousand good ones. Bisecting
    costs about 2·log2(n) extra calls per bad record, and only when there is one.
    A refused token or an unreachable REDCap is raised: every other batch would fail too.
    """
    out = out if out is not None else ImportOutcome()
    if not rows:
        return out
    out.calls += 1
    try:
        client.import_records(rows, overwrite=overwrite)
    except RedcapTokenRejected:
        raise
    except RedcapError as exc:
        if len(rows) == 1:
            out.failed[rows[0][id_field]] = str(exc)
            return out
        middle = len(rows) // 2
        import_bisecting(client, rows[:middle], id_field=id_field, overwrite=overwrite, out=out)
        import_bisecting(client, rows[middle:], id_field=id_field, overwrite=overwrite, out=out)
        return out
    out.written.extend(r[id_field] for r in rows)
    return out
