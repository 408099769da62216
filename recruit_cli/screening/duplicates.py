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
pairwise.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recruit_cli import address, reasons
from recruit_cli.redcap.rows import base_rows, field_value, submission_key
from recruit_cli.screening.classify import Reason, ScreeningRules, is_ready
from recruit_cli.settings import BLANK_STATUSES, Settings

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient

DUPLICATE = reasons.DUPLICATE  # the reason code

Order = tuple[int, str, tuple[int, int, str]]  # redcap.rows.submission_key
Key = tuple[int, tuple[str, ...]]  # (index of the match entry, normalised values)


@dataclass(frozen=True)
class _Holder:
    record_id: str
    order: Order


def enabled(settings: Settings) -> bool:
    return bool(settings.duplicates.match)


def identity_fields(settings: Settings) -> list[str]:
    """What the duplicate check reads of every record: id, status, study ID, submission
    time, and the match fields."""
    f = settings.fields
    names = [f.record_id, f.status, f.study_id]
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
    text = " ".join(value.split())
    if not text:
        return ""
    return address.comparison_key(text) if email else text.casefold()


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
    records = _merged(rows, f.record_id)
    first: dict[Key, _Holder] = {}  # the earliest record with this key
    first_through: dict[Key, _Holder] = {}  # the earliest already screened or holding an ID
    keys_of: dict[str, list[Key]] = {}
    for rid, row in records.items():
        holder = _Holder(
            rid, submission_key(row, record_id=f.record_id, submitted_at=f.submitted_at)
        )
        through = field_value(row, f.status) not in BLANK_STATUSES or bool(
            field_value(row, f.study_id)
        )
        keys = _keys(row, entries, f.email)
        if rid in asked and not through:
            keys_of[rid] = keys
        for key in keys:
            _keep_earliest(first, key, holder)
            if through:
                _keep_earliest(first_through, key, holder)
    out: dict[str, Reason] = {}
    for rid, keys in keys_of.items():
        found: tuple[_Holder, int] | None = None
        for key in keys:
            earlier = first[key]
            if earlier.record_id == rid:
                # This record is the earliest with the key: only one already through
                # screening (submitted later, screened first) comes before it.
                earlier_or_none = first_through.get(key)
                if earlier_or_none is None:
                    continue
                earlier = earlier_or_none
            if found is None or earlier.order < found[0].order:
                found = (earlier, key[0])
        if found is not None:
            holder, entry = found
            out[rid] = Reason(
                DUPLICATE, f"same {_names(entries[entry])} as record {holder.record_id}"
            )
    return out


def _keys(row: Mapping[str, str], entries: Sequence[tuple[str, ...]], email: str) -> list[Key]:
    keys: list[Key] = []
    for i, entry in enumerate(entries):
        values = tuple(normalised(field_value(row, name), email=name == email) for name in entry)
        if all(values):  # a blank value never matches
            keys.append((i, values))
    return keys


def _keep_earliest(index: dict[Key, _Holder], key: Key, holder: _Holder) -> None:
    held = index.get(key)
    if held is None or holder.order < held.order:
        index[key] = holder


def _merged(rows: Iterable[Mapping[str, str]], record_id: str) -> dict[str, Mapping[str, str]]:
    """One row per record: a longitudinal export has one per event; the first non-blank
    value of each field wins."""
    out: dict[str, Mapping[str, str]] = {}
    for row in rows:
        rid = field_value(row, record_id)
        if not rid:
            continue
        held = out.get(rid)
        if held is None:
            out[rid] = row  # a classic project's only row: no copy
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
