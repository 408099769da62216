"""`recruit status`: what the pipeline holds right now, for operators.

One export of the pipeline fields of every record. Counts per status and per group, the
manual-review and safety queues (record id, reason codes, age in days since screening),
and each group's next free study ID and remaining capacity. No pandas: this must start fast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from recruit_cli.redcap.rows import base_rows, field_value, record_key
from recruit_cli.screening.assign import group_usage, study_ids
from recruit_cli.settings import Settings, Status

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient
    from recruit_cli.render import Environment

SCHEMA = "recruit.status/1"
# Rows of the manual-review queue printed as text; --json always holds the whole queue.
QUEUE_ROWS = 20


@dataclass(frozen=True)
class QueueEntry:
    record_id: str
    codes: tuple[str, ...]  # reason codes, e.g. ("qids_invalid", "unevaluable_age")
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
    ids_used: int
    next_id: int | None  # None: exhausted
    remaining: int


@dataclass(frozen=True)
class StatusReport:
    total: int
    by_status: tuple[tuple[str, int], ...]
    by_group: tuple[tuple[str, int], ...]
    review_queue: tuple[QueueEntry, ...]
    safety_queue: tuple[QueueEntry, ...]
    groups: tuple[GroupStatus, ...]

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


def build_status(
    settings: Settings, rows: Iterable[Mapping[str, str]], *, now: datetime
) -> StatusReport:
    """Summarise exported rows. Pure."""
    f = settings.fields
    rows = [r for r in rows if field_value(r, f.record_id)]
    statuses: Counter[str] = Counter(field_value(r, f.status) or Status.PENDING for r in rows)
    groups: Counter[str] = Counter(field_value(r, f.group) for r in rows if field_value(r, f.group))
    known = [str(s) for s in Status]
    by_status = tuple(
        (s, statuses[s]) for s in [*known, *sorted(set(statuses) - set(known))] if statuses[s]
    )
    review: list[QueueEntry] = []
    safety: list[QueueEntry] = []
    for row in sorted(rows, key=lambda r: record_key(field_value(r, f.record_id))):
        status = field_value(row, f.status)
        if status not in (Status.MANUAL_REVIEW, Status.SAFETY_REVIEW):
            continue
        entry = QueueEntry(
            record_id=field_value(row, f.record_id),
            codes=_codes(field_value(row, f.reasons)),
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
    )


def render_status(env: Environment, report: StatusReport) -> None:
    """Rich tables for people (no colour off a TTY); the JSON document with ``--json``."""
    from recruit_cli.render import print_json

    if env.json:
        print_json(env, report.to_dict())
        return
    from rich.markup import escape
    from rich.table import Table

    console = env.console()
    counts = Table(title=f"Records: {report.total}", title_justify="left")
    counts.add_column("status")
    counts.add_column("records", justify="right")
    for status, n in report.by_status:
        counts.add_row(escape(status), str(n))  # staff may type odd statuses
    console.print(counts)

    groups = Table(title="Groups", title_justify="left")
    for col in ("group", "label", "records", "IDs used", "next ID", "remaining"):
        groups.add_column(col, justify="right" if col not in ("group", "label") else "left")
    for g in report.groups:
        nxt = str(g.next_id) if g.next_id is not None else "EXHAUSTED"
        groups.add_row(
            escape(g.name), escape(g.label), str(g.records), str(g.ids_used), nxt, str(g.remaining)
        )
    console.print(groups)

    for title, queue, safety in (
        ("Safety review queue", report.safety_queue, True),
        ("Manual review queue", report.review_queue, False),
    ):
        if not queue:
            console.print(f"{title}: empty")
            continue
        # Every safety case waits for a person, so all are shown; a long manual-review queue
        # is cut to its oldest rows, with the reasons of the whole queue counted below it.
        shown = queue if safety else queue[:QUEUE_ROWS]
        table = Table(title=f"{title}: {len(queue)}", title_justify="left")
        table.add_column("record", justify="right")
        table.add_column("reasons", overflow="fold")
        table.add_column("age (days)", justify="right")
        if safety:
            table.add_column("alerted")
            table.add_column("acknowledged")
        for e in shown:
            cells = [
                escape(e.record_id),
                escape(", ".join(e.codes)),
                "" if e.age_days is None else str(e.age_days),
            ]
            if safety:
                cells += ["yes" if e.alerted else "NO", "yes" if e.acknowledged else "no"]
            table.add_row(*cells)
        console.print(table)
        if len(shown) < len(queue):
            console.print(
                f"… and {len(queue) - len(shown)} more (all of them: recruit status --json)",
                markup=False,
            )
            codes = Counter(code for e in queue for code in e.codes)
            by_reason = ", ".join(f"{code} {n}" for code, n in codes.most_common())
            console.print(f"reasons in the whole queue: {by_reason}", markup=False)


def _codes(reasons: str) -> tuple[str, ...]:
    return tuple(line.partition(":")[0].strip() for line in reasons.splitlines() if line.strip())


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
