"""Shared plumbing of the screening passes: batching, bisecting imports, record ordering."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from recruit_cli.errors import RedcapError, RedcapTokenRejected
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.results import PassResult

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.settings import Settings

T = TypeVar("T")
BLANK_STATUSES = frozenset({"", "pending"})


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items."""
    step = max(1, size)
    for start in range(0, len(items), step):
        yield items[start : start + step]


def record_key(record_id: str) -> tuple[int, int, str]:
    """Order record ids as REDCap shows them: numeric ones numerically, then the rest."""
    text = record_id.strip()
    if text.isascii() and text.isdigit():
        return (0, int(text), "")
    return (1, 0, text)


def base_rows(rows: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Rows of the record itself (a classic project's only rows; not repeating instances)."""
    return [dict(r) for r in rows if not r.get("redcap_repeat_instrument")]


def study_now(settings: Settings) -> datetime:
    """Now, in the study's time zone (timestamps are written with their offset)."""
    return datetime.now(settings.study.zone())


def field_value(row: Mapping[str, str], name: str) -> str:
    value = row.get(name, "")
    return value.strip() if isinstance(value, str) else ""


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


def combine(command: str, *results: PassResult) -> PassResult:
    """Fold several pass results into one (e.g. screen + the safety alerts it triggers)."""
    extra: dict[str, object] = {}
    for r in results:
        extra.update(r.extra)
    codes: list[ExitCode] = [r.exit_code for r in results]
    return PassResult(
        command=command,
        dry_run=any(r.dry_run for r in results),
        actions=tuple(a for r in results for a in r.actions),
        notices=tuple(n for r in results for n in r.notices),
        exit_code=worst(codes),
        extra=extra,
    )
