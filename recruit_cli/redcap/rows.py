"""Reading rows as REDCap exports them (flat JSON: every value a string)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def base_rows(rows: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Rows of the record itself (a classic project's only rows; not repeating instances)."""
    return [dict(r) for r in rows if not r.get("redcap_repeat_instrument")]


def field_value(row: Mapping[str, str], name: str) -> str:
    """A field's value, stripped; "" when the row lacks it or holds no string."""
    value = row.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def record_key(record_id: str) -> tuple[int, int, str]:
    """Order record ids as REDCap shows them: numeric ones numerically, then the rest."""
    text = record_id.strip()
    if text.isascii() and text.isdigit():
        return (0, int(text), "")
    return (1, 0, text)


def submission_key(
    row: Mapping[str, str], *, record_id: str, submitted_at: str | None
) -> tuple[int, str, tuple[int, int, str]]:
    """Order records by submission: the ``submitted_at`` field when configured (records
    without a value after those with one), then record id order.

    This is what "earlier" means wherever recruit orders submissions (study IDs are given
    in this order; of two submissions by one person, the later is the duplicate).
    """
    submitted = field_value(row, submitted_at) if submitted_at else ""
    return (0 if submitted else 1, submitted, record_key(field_value(row, record_id)))
