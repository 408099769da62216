"""`recruit status`: what the pipeline holds right now, for operators.

One export of the pipeline fields of every record. Counts per status and per group, the
manual-review and safety queues (record id, reason codes, age in days since screening;
only codes recruit knows, never what staff typed into the reasons field), how many of the
manual-review queue are held as duplicates or flagged (by flag), and each group's next
free study ID and remaining capacity. No pandas: this must start fast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from recruit_cli.reasons import DUPLICATE, OTHER, codes, flag_codes, known_codes
from recruit_cli.redcap.rows import base_rows, field_value, record_key
from recruit_cli.screening.assign import group_usage, study_ids
from recruit_cli.settings import Settings, Status

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient

SCHEMA = "recruit.status/1"


@dataclass(frozen=True)
class QueueEntry:
    record_id: str
    # Reason codes recruit knows (``recruit_cli.reasons``), e.g. ("qids_invalid",
    # "unevaluable_age"); any other line of the reasons field is "other", never its text.
    codes: tuple[str, ...]
    age_days: int | None  # days since screening; None when the timestamp is missing/odd
    alerted: bool = False  # safety queue: staff alert sent
    acknowledged: bool = False  # safety queue: staff acknowledged


@dataclass(frozen=True)
class GroupStatus:
    name: str
    label: str
    first_id: int
    last_id: int
    records: int  # records placed in this group (any status)
    ids_used: int  # study IDs of the range held by a record ("study IDs issued", any status)
    next_id: int | None  # None: exhausted
    remaining: int
    target: int | None = None  # [[groups]] target: shown, never enforced


@dataclass(frozen=True)
class ReviewHolds:
    """Of the manual-review queue: records held as duplicates, and flagged (per flag)."""

    duplicates: int = 0
    flagged: int = 0  # records with at least one flag
    by_flag: tuple[tuple[str, int], ...] = ()  # flag code -> records, in the config's order

    def to_dict(self) -> dict[str, Any]:
        return {
            "duplicates": self.duplicates,
            "flagged": self.flagged,
            "by_flag": dict(self.by_flag),
        }


@dataclass(frozen=True)
class StatusReport:
    total: int
    by_status: tuple[tuple[str, int], ...]
    by_group: tuple[tuple[str, int], ...]
    review_queue: tuple[QueueEntry, ...]
    safety_queue: tuple[QueueEntry, ...]
    groups: tuple[GroupStatus, ...]
    review_holds: ReviewHolds = ReviewHolds()

    def to_dict(self) -> dict[str, Any]:
        def entry(e: QueueEntry) -> dict[str, Any]:
            return {
                "record_id": e.record_id,
                "codes": list(e.codes),
                "age_days": e.age_days,
                "alerted": e.alerted,
                "acknowledged": e.acknowledged,
            }

        return {
            "schema": SCHEMA,
            "total": self.total,
            "by_status": dict(self.by_status),
            "by_group": dict(self.by_group),
            "review_queue": [entry(e) for e in self.review_queue],
            "safety_queue": [entry(e) for e in self.safety_queue],
            "review_holds": self.review_holds.to_dict(),
            "groups": [
                {
                    "name": g.name,
                    "label": g.label,
                    "first_id": g.first_id,
                    "last_id": g.last_id,
                    "records": g.records,
                    "ids_used": g.ids_used,
                    "next_id": g.next_id,
                    "remaining": g.remaining,
                    "target": g.target,
                }
                for g in self.groups
            ],
        }


def export_fields(settings: Settings) -> list[str]:
    f = settings.fields
    return [
        f.record_id,
        f.status,
        f.reasons,
        f.group,
        f.study_id,
        f.screened_at,
        f.safety_alerted_at,
        f.safety_ack,
    ]


def status_report(
    settings: Settings, client: RedcapClient, *, now: datetime | None = None
) -> StatusReport:
    """Read the pipeline fields of every record (one call) and summarise them."""
    rows = client.export_records(fields=export_fields(settings))
    return build_status(settings, base_rows(rows), now=now or settings.study.now())


def _known_or_other(value: str, known: Iterable[str]) -> str:
    return value if value in known else OTHER


def build_status(
    settings: Settings, rows: Iterable[Mapping[str, str]], *, now: datetime
) -> StatusReport:
    """Summarise exported rows. Pure."""
    f = settings.fields
    reason_codes = known_codes(settings)
    rows = [r for r in rows if field_value(r, f.record_id)]
    known = [str(s) for s in Status]
    group_names = {g.name for g in settings.groups}
    # A value staff typed into the status or group field is counted, never shown: it may
    # say something about a person. Only recruit's statuses and the configured groups are.
    statuses: Counter[str] = Counter(
        _known_or_other(field_value(r, f.status) or Status.PENDING, known) for r in rows
    )
    groups: Counter[str] = Counter(
        _known_or_other(field_value(r, f.group), group_names)
        for r in rows
        if field_value(r, f.group)
    )
    by_status = tuple((s, statuses[s]) for s in [*known, OTHER] if statuses[s])
    review: list[QueueEntry] = []
    safety: list[QueueEntry] = []
    for row in sorted(rows, key=lambda r: record_key(field_value(r, f.record_id))):
        status = field_value(row, f.status)
        if status not in (Status.MANUAL_REVIEW, Status.SAFETY_REVIEW):
            continue
        entry = QueueEntry(
            record_id=field_value(row, f.record_id),
            codes=codes(field_value(row, f.reasons), reason_codes),
            age_days=_age_days(field_value(row, f.screened_at), now),
            alerted=bool(field_value(row, f.safety_alerted_at)),
            acknowledged=field_value(row, f.safety_ack) == "1",
        )
        (safety if status == Status.SAFETY_REVIEW else review).append(entry)
    usage = group_usage(settings.groups, study_ids(settings, rows).values())
    group_rows = tuple(
        GroupStatus(
            name=g.name,
            label=g.label,
            first_id=g.first_id,
            last_id=g.last_id,
            records=groups[g.name],
            ids_used=usage[g.name].used,
            next_id=usage[g.name].next_id,
            remaining=usage[g.name].remaining,
            target=g.target,
        )
        for g in settings.groups
    )
    return StatusReport(
        total=len(rows),
        by_status=by_status,
        by_group=tuple(sorted(groups.items())),
        review_queue=tuple(review),
        safety_queue=tuple(safety),
        groups=group_rows,
        review_holds=review_holds(settings, review),
    )


def review_holds(settings: Settings, queue: Iterable[QueueEntry]) -> ReviewHolds:
    """Count the queue's duplicates and flagged records (a record can be both)."""
    flags = [f.name for f in settings.screening.flags]
    flagged = flag_codes(settings)
    per_flag: Counter[str] = Counter()
    duplicates = any_flag = 0
    for entry in queue:
        duplicates += int(DUPLICATE in entry.codes)
        raised = flagged.intersection(entry.codes)
        any_flag += int(bool(raised))
        per_flag.update(raised)
    return ReviewHolds(duplicates, any_flag, tuple((name, per_flag[name]) for name in flags))


def _age_days(stamp: str, now: datetime) -> int | None:
    if not stamp:
        return None
    try:
        then = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=now.tzinfo)
    return max(0, (now - then).days)
