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
