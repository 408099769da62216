"""A record export checked against what was asked, before anything is built on it.

The passes write study IDs, claims and statuses from what an export says. An answer that
is not the rows asked for would be believed: two rows for one record with other values
(``assign`` once rewrote every study ID from such an answer), rows of records nobody asked
for (imports would then create phantom records), a row without its record id. So
``checked_rows`` refuses, with ``RedcapBadAnswer`` (exit 4), an answer that

- is not a JSON list of objects;
- holds a value that is not a string (REDCap's flat JSON export gives only strings);
- has a row without its record id (when the client knows the record id field);
- has a row for a record id that was not requested (when ``records=`` was given);
- has two rows for one record that the project's shape doesn't explain: rows may share a
  record id only with different ``redcap_event_name`` / ``redcap_repeat_instrument`` /
  ``redcap_repeat_instance`` (projects with those are refused before any export today:
  ``recruit_cli.redcap.project``).

Messages name the call, row positions (1-based) and field names, never values or record ids
(a record id could hold anything: it is data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recruit_cli.errors import RedcapBadAnswer

# The columns that tell apart several rows of one record (events, repeating instances).
SHAPE_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")


def checked_rows(
    value: Any,
    call: str,
    *,
    id_field: str | None,
    requested: Sequence[str] | None = None,
) -> list[dict[str, str]]:
    """The rows of a record export, or ``RedcapBadAnswer`` if they aren't what was asked.

    Args:
        value: The decoded JSON answer.
        call: Names the call in messages (``content=record``).
        id_field: The project's record id field; None skips the record id checks.
        requested: The record ids asked for (``records=``), or None for "any".
    """
    if not isinstance(value, list):
        raise _bad(call, f"JSON that is not a list of rows ({_kind(value)})")
    wanted = None if requested is None else set(requested)
    seen: dict[tuple[str, ...], int] = {}
    rows: list[dict[str, str]] = []
    for number, row in enumerate(value, start=1):
        if not isinstance(row, dict):
            raise _bad(call, f"row {number} that is not an object ({_kind(row)})")
        for name, cell in row.items():
            if not isinstance(cell, str):
                raise _bad(call, f"row {number}, field {_name(name)}: {_kind(cell)}, not text")
        if id_field is not None:
            record = row.get(id_field, "")
            if not record:
                raise _bad(call, f"row {number} without its record id ({_name(id_field)})")
            if wanted is not None and record not in wanted:
                raise _bad(call, f"row {number} for a record that was not asked for")
            key = (record, *(row.get(column, "") for column in SHAPE_COLUMNS))
            if key in seen:
                raise _bad(
                    call,
                    f"rows {seen[key]} and {number} for one record, which the project's "
                    "shape (events, repeating instruments) does not explain",
                )
            seen[key] = number
        rows.append(row)
    return rows


def _bad(call: str, what: str) -> RedcapBadAnswer:
    return RedcapBadAnswer(
        f"REDCap answered {call} with {what}: refused, nothing is written from it; "
        "check REDCap (and any proxy in front of it), then run again"
    )


def _kind(value: Any) -> str:
    # The JSON type, never the value: it could be a participant's answer.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _name(field: str) -> str:
    # Field names are safe to show, but an answer could make one up: printable ASCII only.
    safe = "".join(c if c.isascii() and c.isprintable() else "?" for c in field)
    return repr(safe[:64])
