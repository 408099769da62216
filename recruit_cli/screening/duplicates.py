"""Duplicate submissions: one person, one study ID.

``[duplicates] match`` lists the ways a person is recognised, each a list of fields that
together identify them (``[["participant_email"], ["first_name", "dob"]]``). A submission
being screened is a **duplicate** when, on any entry, its values equal those of a record
that comes before it:

- one submitted earlier (submission order: ``[fields] submitted_at`` when configured, else
  record id order; ``redcap.rows.submission_key``), whatever its status; or
- one already through screening (any status but blank/pending) or holding a study ID, even
  if submitted later: a person's first form can become ready to screen after their second
  was screened, and must not then earn a second study ID.

The reason names the fields and the earliest such record, never a value:
``duplicate: same first_name and dob as record 12``. The earlier record is never changed;
a record that already holds a study ID is never held as a duplicate; nor is one whose
acknowledgement field (``[fields] duplicate_ok``) staff set to yes, meaning "a different
person" (the screen pass then screens it normally).

Values are compared normalised: trimmed, inner whitespace collapsed, letters without case;
the e-mail field (``[fields] email``) by ``address.comparison_key``. A blank value never
matches, so an entry with a blank field gives no match.

Cost: one export of the identity fields of every record per pass (``read_identities``), and
work linear in the number of records: every record's values are hashed once, never compared
pairwise. The screen pass uses the same export to narrow its own to the records whose
status it may change, which makes the check's export nearly free in a large project.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from recruit_cli import address, reasons
from recruit_cli.redcap.rows import base_rows, field_value, submission_key
from recruit_cli.screening.classify import Reason, ScreeningRules, is_ready
from recruit_cli.settings import BLANK_STATUSES, Settings

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient

DUPLICATE = reasons.DUPLICATE  # the reason code

Order = tuple[int, str, tuple[int, int, str]]  # redcap.rows.submission_key


def enabled(settings: Settings) -> bool:
    return bool(settings.duplicates.match)


def identity_fields(settings: Settings) -> list[str]:
    """What the duplicate check reads of every record: id, status, study ID, submission
    time, and the match fields; and the acknowledgements, with which the screen pass
    narrows its own export (``screen.may_screen``)."""
    f = settings.fields
    names = [f.record_id, f.status, f.study_id, f.safety_ack, f.duplicate_ok]
    if f.submitted_at:
        names.append(f.submitted_at)
    for entry in settings.duplicates.match:
        names.extend(entry)
    return list(dict.fromkeys(names))


def read_identities(settings: Settings, client: RedcapClient) -> list[dict[str, str]]:
    """The one extra export of a pass: the identity fields of every record."""
    return base_rows(client.export_records(fields=identity_fields(settings)))


def candidates(
    settings: Settings, rules: ScreeningRules, rows: Iterable[Mapping[str, str]]
) -> frozenset[str]:
    """The records the duplicate check asks about: pending, ready, not acknowledged."""
    f = settings.fields
    return frozenset(
        field_value(row, f.record_id)
        for row in rows
        if field_value(row, f.status) in BLANK_STATUSES
        and field_value(row, f.duplicate_ok) != "1"
        and field_value(row, f.record_id)
        and is_ready(rules, row)
    )


def normalised(value: str, *, email: bool) -> str:
    """The form values are compared in; "" for a blank value (which never matches)."""
    return _email_key(value) if email else _text_key(value)


def _text_key(value: str) -> str:
    return " ".join(value.split()).casefold()


def _email_key(value: str) -> str:
    text = " ".join(value.split())
    return address.comparison_key(text) if text else ""


def find_duplicates(
    settings: Settings, rows: Iterable[Mapping[str, str]], asked: Collection[str]
) -> dict[str, Reason]:
    """record id -> its ``duplicate`` reason, for the records ``asked`` about that are.

    Args:
        settings: the study's settings (``[duplicates] match``, the field names).
        rows: the identity fields of every record in the project (``read_identities``).
        asked: the record ids being screened now (``candidates``: staff-acknowledged ones
            left out); one holding a study ID is never a duplicate.
    """
    entries = settings.duplicates.match
    if not entries or not asked:
        return {}
    f = settings.fields
    merged = _merged(rows, f.record_id)
    ids = list(merged)
    records = list(merged.values())
    # Column by column, so the per-record work is a few C-level passes and one dict lookup
    # per entry (the check keys every record of the project on every pass that screens).
    names = {name for entry in entries for name in entry}
    columns = {
        name: [(_email_key if name == f.email else _text_key)(r.get(name) or "") for r in records]
        for name in names
    }
    orders: dict[int, Order] = {}
    through: dict[int, bool] = {}

    def order(pos: int) -> Order:
        if pos not in orders:
            orders[pos] = submission_key(
                records[pos], record_id=f.record_id, submitted_at=f.submitted_at
            )
        return orders[pos]

    def is_through(pos: int) -> bool:
        """Already screened or holding a study ID: before any pending record."""
        if pos not in through:
            row = records[pos]
            status = field_value(row, f.status)
            through[pos] = status not in BLANK_STATUSES or bool(field_value(row, f.study_id))
        return through[pos]

    found: dict[int, tuple[Order, int, int]] = {}  # candidate -> (order, entry, record)
    for i, entry in enumerate(entries):
        for members in _sharing(entry, columns):
            pending = [p for p in members if ids[p] in asked and not is_through(p)]
            if not pending:
                continue
            by_order = sorted(members, key=order)
            earliest = by_order[0]
            earliest_through = next((p for p in by_order if is_through(p)), None)
            for p in pending:
                # Before p: the earliest submission, unless that is p itself; then only one
                # already through screening (submitted later, screened first).
                ref = earliest if earliest != p else earliest_through
                if ref is None:
                    continue
                candidate = (order(ref), i, ref)
                if p not in found or candidate < found[p]:
                    found[p] = candidate
    return {
        ids[p]: Reason(DUPLICATE, f"same {_names(entries[i])} as record {ids[ref]}")
        for p, (_, i, ref) in found.items()
    }


def _sharing(entry: Sequence[str], columns: Mapping[str, list[str]]) -> list[list[int]]:
    """The groups of records (positions) with the same non-blank values for ``entry``."""
    first: dict[object, int] = {}
    groups: dict[object, list[int]] = {}
    present: list[tuple[int, object]]
    if len(entry) == 1:
        present = [(p, k) for p, k in enumerate(columns[entry[0]]) if k]
    else:
        tuples = zip(*(columns[n] for n in entry), strict=True)
        present = [(p, k) for p, k in enumerate(tuples) if all(k)]
    for pos, key in present:  # a blank value never matches
        held = first.setdefault(key, pos)
        if held != pos:
            groups.setdefault(key, [held]).append(pos)
    return list(groups.values())


def _merged(rows: Iterable[Mapping[str, str]], record_id: str) -> dict[str, Mapping[str, str]]:
    """One row per record: a longitudinal export has one per event; the first non-blank
    value of each field wins."""
    listed = list(rows)
    ids = [(r.get(record_id) or "").strip() for r in listed]
    out: dict[str, Mapping[str, str]] = dict(zip(ids, listed, strict=True))
    if len(out) == len(listed):  # a classic project: one row per record, nothing to merge
        out.pop("", None)
        return out
    out = {}
    for rid, row in zip(ids, listed, strict=True):
        if not rid:
            continue
        held = out.get(rid)
        if held is None:
            out[rid] = row
            continue
        merged = dict(held)
        for name, value in row.items():
            if not field_value(merged, name):
                merged[name] = value
        out[rid] = merged
    return out


def _names(fields: Sequence[str]) -> str:
    """``a`` / ``a and b`` / ``a, b and c``: field names, never values."""
    if len(fields) == 1:
        return fields[0]
    return ", ".join(fields[:-1]) + " and " + fields[-1]
