"""`recruit assign`: give every eligible record the next study ID of its group.

REDCap is the single source of truth: the next ID of a group is the highest ID already in
its range + 1, read with ONE export per round (every record that is eligible or holds an ID).
Eligible records get IDs in submission order (the configured submitted-at field, else record
id order), contiguous; status and ID are written together in one import row, so a pass killed
at any point leaves every record either untouched or complete, and the next pass continues
from the highest ID written.

Two passes at once (two machines) are handled in rounds. Each round re-reads, plans and
writes; the round after a write is the verification:

- with REDCap's secondary unique field set to the study-ID field, REDCap refuses an import
  that would duplicate an ID; the refused records are re-planned from a fresh read;
- without it, a duplicate is found by the verification read and resolved deterministically:
  the record with the lower record id keeps the ID, the other gets a fresh one above the
  group's highest (``recruit doctor`` warns when no unique field is set).

An exhausted range is a configuration problem: the records wait (still ``eligible``), the
notice names the group, and the pass exits 3 after assigning every other group's records.
Raise ``last_id`` and the next pass assigns them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from recruit_cli import reasons
from recruit_cli.chunks import chunks
from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.faultpoints import crash_point
from recruit_cli.redcap.rows import base_rows, field_value, record_key, submission_key
from recruit_cli.redcap.writes import RecordWriter
from recruit_cli.results import PassResult, RecordAction
from recruit_cli.screening.classify import Reason
from recruit_cli.settings import Group, Settings, Status

if TYPE_CHECKING:
    from recruit_cli.redcap.client import RedcapClient

log = logging.getLogger("recruit.screening.assign")

MAX_ROUNDS = 5  # write + verify rounds before the pass gives up settling a race
MAX_FAILURES = 3  # a record REDCap refuses this often is left for the next pass


@dataclass(frozen=True)
class AssignDetails:
    """What `recruit assign` returns besides its actions (``PassResult.detail``)."""

    rounds: int  # write-and-verify rounds it took to settle
    unique_field: bool  # the study ID is the project's secondary unique field

    def to_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "unique_field": self.unique_field}


@dataclass(frozen=True)
class GroupUsage:
    """How much of a group's ID range is used, per REDCap's current data."""

    group: Group
    used: int  # IDs in the range held by some record
    highest: int | None

    @property
    def next_id(self) -> int | None:
        """The next free ID, or None when the range is exhausted."""
        nxt = self.group.first_id if self.highest is None else self.highest + 1
        return nxt if nxt <= self.group.last_id else None

    @property
    def remaining(self) -> int:
        nxt = self.next_id
        return 0 if nxt is None else self.group.last_id - nxt + 1


@dataclass(frozen=True)
class Assignment:
    record_id: str
    group: str
    study_id: int
    kind: str  # "assigned" (new ID) | "completed" (had its ID) | "reassigned" (duplicate)


@dataclass(frozen=True)
class AssignPlan:
    assignments: tuple[Assignment, ...] = ()
    reviews: tuple[tuple[str, Reason], ...] = ()  # eligible but no configured group
    exhausted: tuple[tuple[str, str], ...] = ()  # (record id, group) waiting for an ID
    notices: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.assignments and not self.reviews


def parse_study_id(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else None


def study_ids(settings: Settings, rows: Iterable[Mapping[str, str]]) -> dict[str, int]:
    """record id -> integer study ID, for every row holding one."""
    f = settings.fields
    out: dict[str, int] = {}
    for row in rows:
        number = parse_study_id(field_value(row, f.study_id))
        if number is not None:
            out[field_value(row, f.record_id)] = number
    return out


def group_usage(groups: Sequence[Group], ids: Iterable[int]) -> dict[str, GroupUsage]:
    """Usage of every group's range (an ID belongs to the range it falls in)."""
    values = list(ids)
    usage: dict[str, GroupUsage] = {}
    for g in groups:
        inside = [n for n in values if g.first_id <= n <= g.last_id]
        usage[g.name] = GroupUsage(g, len(set(inside)), max(inside, default=None))
    return usage


def duplicate_losers(ids: Mapping[str, int]) -> dict[str, str]:
    """Records whose ID another record with a lower record id also holds -> that winner."""
    holders: dict[int, list[str]] = defaultdict(list)
    for rid, number in ids.items():
        holders[number].append(rid)
    losers: dict[str, str] = {}
    for rids in holders.values():
        if len(rids) > 1:
            winner, *rest = sorted(rids, key=record_key)
            losers.update(dict.fromkeys(rest, winner))
    return losers


def plan_assign(
    settings: Settings,
    rows: Sequence[Mapping[str, str]],
    *,
    only: frozenset[str] | None = None,
    exclude: frozenset[str] = frozenset(),
) -> AssignPlan:
    """Plan one round from one read. Pure: the same rows give the same plan."""
    f = settings.fields
    ids = study_ids(settings, rows)
    usage = group_usage(settings.groups, ids.values())
    next_free = {
        name: (u.group.first_id if u.highest is None else u.highest + 1)
        for name, u in usage.items()
    }
    losers = duplicate_losers(ids)
    notices: list[str] = []
    assignments: list[Assignment] = []
    reviews: list[tuple[str, Reason]] = []
    exhausted: list[tuple[str, str]] = []

    def in_scope(rid: str) -> bool:
        return (only is None or rid in only) and rid not in exclude

    def allocate(rid: str, group: Group, kind: str) -> None:
        number = next_free[group.name]
        if number > group.last_id:
            exhausted.append((rid, group.name))
            return
        next_free[group.name] = number + 1
        assignments.append(Assignment(rid, group.name, number, kind))

    for rid in sorted(losers, key=record_key):
        group = _group_of(settings.groups, ids[rid])
        if group is not None and in_scope(rid):
            notices.append(
                f"study ID {ids[rid]} is held by records {losers[rid]} and {rid}; "
                f"record {losers[rid]} keeps it, record {rid} gets a new one"
            )
            allocate(rid, group, "reassigned")
    for row in sorted(rows, key=lambda r: _submission_key(settings, r)):
        rid = field_value(row, f.record_id)
        if field_value(row, f.status) != Status.ELIGIBLE or not rid or not in_scope(rid):
            continue
        name = field_value(row, f.group)
        group = settings.group(name) if name else None
        if group is None:
            text = f"group {name} is not configured" if name else "no group was recorded"
            reviews.append((rid, Reason(reasons.UNKNOWN_GROUP, text)))
            continue
        own = ids.get(rid)
        if own is not None and rid not in losers and group.first_id <= own <= group.last_id:
            assignments.append(Assignment(rid, group.name, own, "completed"))
        elif rid not in losers:  # a loser was already re-planned above
            allocate(rid, group, "assigned")
    for name in dict.fromkeys(g for _, g in exhausted):
        group = settings.group(name)
        if group is None:  # cannot happen: exhausted names configured groups only
            continue
        waiting = sum(1 for _, g in exhausted if g == name)
        notices.append(
            f"group {name}: ID range {group.first_id}-{group.last_id} is exhausted; "
            f"{waiting} record(s) wait for an ID (raise its last_id in recruit.toml)"
        )
    return AssignPlan(tuple(assignments), tuple(reviews), tuple(exhausted), tuple(notices))


def write_rows(settings: Settings, plan: AssignPlan) -> list[dict[str, str]]:
    """Import rows: status and ID together, so a record is never half-assigned."""
    f = settings.fields
    rows: list[dict[str, str]] = []
    for a in plan.assignments:
        row = {f.record_id: a.record_id}
        if a.kind != "reassigned":
            row[f.status] = str(Status.ELIGIBLE_ID_ASSIGNED)
        if a.kind != "completed":
            row[f.study_id] = str(a.study_id)
        rows.append(row)
    for rid, reason in plan.reviews:
        rows.append({f.record_id: rid, f.status: str(Status.MANUAL_REVIEW), f.reasons: reason.line})
    return rows


def export_fields(settings: Settings) -> list[str]:
    f = settings.fields
    names = [f.record_id, f.status, f.group, f.study_id]
    if f.submitted_at:
        names.append(f.submitted_at)
    return names


def filter_logic(settings: Settings) -> str:
    f = settings.fields
    return f"[{f.status}] = '{Status.ELIGIBLE}' or [{f.study_id}] <> ''"


def read_state(settings: Settings, client: RedcapClient) -> list[dict[str, str]]:
    """One export: every record that is eligible or holds a study ID."""
    rows = client.export_records(
        fields=export_fields(settings), filter_logic=filter_logic(settings)
    )
    return base_rows(rows)


def assign_pass(
    settings: Settings,
    client: RedcapClient,
    *,
    records: Sequence[str] | None = None,
    dry_run: bool = False,
) -> PassResult:
    """Assign study IDs to eligible records, verify, and settle any concurrent duplicates."""
    f = settings.fields
    only = frozenset(records) if records else None
    unique = client.export_project_info().get("secondary_unique_field", "") == f.study_id
    actions: dict[str, RecordAction] = {}
    failures: dict[str, int] = defaultdict(int)
    failed_msg: dict[str, str] = {}
    notices: dict[str, None] = {}
    plan = AssignPlan()
    settled = False
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - reported in the result
        state = read_state(settings, client)
        plan = plan_assign(settings, state, only=only, exclude=frozenset(failed_msg))
        notices.update(dict.fromkeys(plan.notices))
        if dry_run or plan.empty:
            settled = True
            break
        writer = RecordWriter.for_pass(client, settings, [row[f.record_id] for row in state])
        for batch in chunks(write_rows(settings, plan), settings.redcap.batch_size):
            out = writer.write(batch, overwrite=False)
            _record_written(plan, list(out.written), actions)
            for rid, msg in out.refused.items():
                failures[rid] += 1
                if failures[rid] >= MAX_FAILURES:
                    failed_msg[rid] = msg
            crash_point("assign.after_batch")
            if out.refused:
                # A refusal may be a unique-field collision with another pass: the IDs
                # planned after it may be taken too, so re-read before writing more.
                log.info(
                    "REDCap refused %d record(s); re-reading (unique=%s)", len(out.refused), unique
                )
                break
    if not settled:
        notices[f"assign did not settle in {MAX_ROUNDS} rounds; run it again"] = None
    if not dry_run:  # the audit trail for --log-file (stdout is quiet under cron)
        for action in actions.values():
            log.info("assign: record %s %s %s", action.record_id, action.action, action.detail)
    touched = {a.record_id for a in plan.assignments} | {r for r, _ in plan.reviews}
    touched |= set(actions) | set(failed_msg) | {r for r, _ in plan.exhausted}
    for rid in dict.fromkeys(records or ()):  # tell a typo or a done record, not silence
        if rid not in touched:
            notices[f"record {rid}: nothing to assign (no such record, or not eligible)"] = None
    result = _result(plan, actions, failed_msg, tuple(notices), dry_run=dry_run, settled=settled)
    return replace(result, details=(AssignDetails(rounds, unique),))


def _record_written(plan: AssignPlan, written: list[str], actions: dict[str, RecordAction]) -> None:
    done = set(written)
    for a in plan.assignments:
        if a.record_id in done:
            earlier = actions.get(a.record_id)
            verb = "assigned" if earlier is not None and earlier.action == "assigned" else a.kind
            actions[a.record_id] = RecordAction(a.record_id, verb, f"{a.group} {a.study_id}")
    for rid, reason in plan.reviews:
        if rid in done:
            actions[rid] = RecordAction(rid, "review", reason.line)


def _result(
    plan: AssignPlan,
    actions: dict[str, RecordAction],
    failed: dict[str, str],
    notices: tuple[str, ...],
    *,
    dry_run: bool,
    settled: bool,
) -> PassResult:
    if dry_run:
        actions = {}
        _record_written(
            plan, [a.record_id for a in plan.assignments] + [r for r, _ in plan.reviews], actions
        )
    out = dict(actions)
    for rid, msg in failed.items():
        out[rid] = RecordAction(rid, "failed", f"not written: {msg}", ok=False)
    for rid, group in plan.exhausted:
        out[rid] = RecordAction(
            rid, "waiting", f"range_exhausted: group {group} has no free IDs", ok=False
        )
    codes = [ExitCode.OK]
    if failed or not settled:
        codes.append(ExitCode.PARTIAL)
    if plan.exhausted:
        codes.append(ExitCode.CONFIG)
    ordered = tuple(out[k] for k in sorted(out, key=record_key))
    return PassResult(
        command="assign",
        dry_run=dry_run,
        actions=ordered,
        notices=notices,
        exit_code=worst(codes),
    )


def _group_of(groups: Sequence[Group], number: int) -> Group | None:
    return next((g for g in groups if g.first_id <= number <= g.last_id), None)


def _submission_key(
    settings: Settings, row: Mapping[str, str]
) -> tuple[int, str, tuple[int, int, str]]:
    f = settings.fields
    return submission_key(row, record_id=f.record_id, submitted_at=f.submitted_at)
