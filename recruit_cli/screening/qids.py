"""QIDS-SR16: validate a self-reported total, or score the 16 items by the published rule.

Scoring (Rush et al., 2003): max(items 1-4) + item 5 + max(items 6-9) + items 10-14 +
max(items 15-16), each item an integer 0-3, so the total is 0-27. Anything else (blank,
"12.5", "28", "-1", "abc", full-width digits) is invalid and sends the record to manual
review. Problems name fields, never the values (they are questionnaire answers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recruit_cli.settings import QidsSettings

MAX_TOTAL = 27
MAX_ITEM = 3
N_ITEMS = 16
# ASCII digits only: str.isdigit() would accept "１２" or "²".
_INTEGER = re.compile(r"[0-9]{1,3}")


@dataclass(frozen=True)
class QidsScore:
    """A scored QIDS: ``total`` when valid, else ``problem`` (readable, value-free)."""

    total: int | None = None
    problem: str | None = None

    @property
    def valid(self) -> bool:
        return self.total is not None


def parse_int(value: object, low: int, high: int) -> int | None:
    """``value`` as an int in [low, high] if it is plainly one (surrounding spaces allowed)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def score_total(record: Mapping[str, str], field: str) -> QidsScore:
    """Validate a self-reported total field: an integer 0-27 written as text."""
    raw = record.get(field, "")
    if not isinstance(raw, str) or raw.strip() == "":
        return QidsScore(problem=f"[{field}] is blank")
    total = parse_int(raw, 0, MAX_TOTAL)
    if total is None:
        return QidsScore(problem=f"[{field}] is not an integer from 0 to {MAX_TOTAL}")
    return QidsScore(total=total)


def score_items(record: Mapping[str, str], fields: Sequence[str]) -> QidsScore:
    """Score the 16 items; every item must be present and an integer 0-3."""
    if len(fields) != N_ITEMS:  # config validation should have caught this; stay total
        return QidsScore(problem=f"{len(fields)} item fields configured, {N_ITEMS} needed")
    values: list[int] = []
    blank: list[str] = []
    bad: list[str] = []
    for field in fields:
        raw = record.get(field, "")
        if not isinstance(raw, str) or raw.strip() == "":
            blank.append(field)
            continue
        item = parse_int(raw, 0, MAX_ITEM)
        if item is None:
            bad.append(field)
        else:
            values.append(item)
    if blank or bad:
        parts = []
        if blank:
            parts.append(_field_list(blank) + (" is" if len(blank) == 1 else " are") + " blank")
        if bad:
            parts.append(
                _field_list(bad)
                + (" is" if len(bad) == 1 else " are")
                + f" not an integer from 0 to {MAX_ITEM}"
            )
        return QidsScore(problem="; ".join(parts))
    return QidsScore(total=score(values))


def score(items: Sequence[int]) -> int:
    """The published QIDS-SR16 total of 16 item scores (index 0 is item 1)."""
    return (
        max(items[0:4])  # sleep: items 1-4
        + items[4]  # sad mood
        + max(items[5:9])  # appetite/weight: items 6-9
        + sum(items[9:14])  # concentration, self-view, suicide, interest, energy: 10-14
        + max(items[14:16])  # psychomotor: items 15-16
    )


def score_record(settings: QidsSettings, record: Mapping[str, str]) -> QidsScore | None:
    """The QIDS of one record per the configuration; None when no QIDS is configured."""
    if settings.items:
        return score_items(record, settings.items)
    if settings.total:
        return score_total(record, settings.total)
    return None


def qids_fields(settings: QidsSettings) -> tuple[str, ...]:
    """The REDCap fields the QIDS configuration reads."""
    if settings.items:
        return tuple(settings.items)
    return (settings.total,) if settings.total else ()


def _field_list(fields: Sequence[str]) -> str:
    return ", ".join(f"[{f}]" for f in fields)
