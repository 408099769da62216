"""The invariants of the fault-injection suite, as a pure function of the end state.

``check_invariants(rows, sent, rules)`` looks only at what REDCap holds (every record's
exported row) and what the fake Graph accepted (``MicrosoftSandbox.sent``), and returns one line
per violation (record ids and keys, never an address). Being pure, it is tested on
hand-made states too, so each invariant is shown able to fail.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recruit_cli.logic import Truth, parse

# Field names of the demo configuration (Settings.fields defaults + the demo's [fields]).
STATUS = "pipeline_processing_status"
REASONS = "pipeline_ineligibility_reasons"
CLAIM = "pipeline_email_claim"
GROUP = "pipeline_group"
STUDY_ID = "assigned_study_id"
SCREENED_AT = "pipeline_screened_timestamp"
INVITED_AT = "pipeline_invitation_sent_timestamp"
NOTIFIED_AT = "pipeline_ineligible_notification_sent_timestamp"
ALERTED_AT = "pipeline_safety_alert_timestamp"
EMAIL = "participant_email"
PIPELINE: tuple[str, ...] = (STATUS, REASONS, CLAIM, GROUP, STUDY_ID, SCREENED_AT)
PIPELINE += (INVITED_AT, NOTIFIED_AT, ALERTED_AT)
SAFETY_ONLY = (STATUS, REASONS, SCREENED_AT, CLAIM, ALERTED_AT)  # what a safety flag writes

# kind -> (the status its mark writes, or None: alerts keep safety_review; its stamp field)
KINDS: dict[str, tuple[str | None, str]] = {
    "invite": ("eligible_invited", INVITED_AT),
    "ineligible": ("ineligible_notified", NOTIFIED_AT),
    "safety_alert": (None, ALERTED_AT),
}
PARTICIPANT_KINDS = frozenset({"invite", "ineligible"})
TERMINAL = frozenset({"eligible_invited", "ineligible_notified"})
REVIEW = frozenset({"manual_review_required", "safety_review"})
REASON_LINE = re.compile(r"^[a-z][a-z0-9_]*: \S")
SENT_CLAIM = re.compile(r"^(?P<key>[^|]+)\|sent\|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


@dataclass(frozen=True)
class Rules:
    """What the invariants need from the study's recruit.toml: the groups' ID ranges, the
    staff alert addresses and the safety rule (REDCap logic)."""

    ranges: dict[str, tuple[int, int]]
    staff: tuple[str, ...]
    safety: str

    @classmethod
    def from_toml(cls, text: str) -> Rules:
        data = tomllib.loads(text)
        ranges = {g["name"]: (int(g["first_id"]), int(g["last_id"])) for g in data["groups"]}
        return cls(ranges, tuple(data["safety"]["notify"]), data["safety"]["when"])

    def safety_matches(self, row: Mapping[str, str]) -> bool:
        """The safety rule definitely fires (TRUE, not unknown) on this record's answers."""
        return bool(self.safety) and parse(self.safety).truth(row).truth is Truth.TRUE


def duplicate_keys(sent: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = Counter(str(m.get("key")) for m in sent)
    return {k: c for k, c in counts.items() if c > 1}


# -- the invariants -------------------------------------------------------------------------


def check_invariants(
    rows: Sequence[Mapping[str, str]], sent: Sequence[Mapping[str, Any]], rules: Rules
) -> list[str]:
    """Every violated invariant, one line each (record ids and keys only). Empty: all hold."""
    problems: list[str] = []
    by_id = {r["record_id"]: r for r in rows}
    problems += _check_messages(by_id, sent, rules)
    problems += _check_records(by_id, sent, rules)
    problems += _check_study_ids(by_id, rules)
    return problems


def _parse_key(key: str) -> tuple[str, str] | None:
    parts = key.split(":")
    if len(parts) != 3 or parts[1] not in KINDS or parts[2] != "1":
        return None
    return parts[0], parts[1]


def _check_messages(
    by_id: Mapping[str, Mapping[str, str]], sent: Sequence[Mapping[str, Any]], rules: Rules
) -> list[str]:
    """Each sent message: well-formed, sent once, to the right person, and marked in REDCap."""
    problems: list[str] = []
    per_key = Counter(str(m.get("key")) for m in sent)
    per_record_kind: Counter[tuple[str, str]] = Counter()
    participant_mail: Counter[str] = Counter()
    for key, count in sorted(per_key.items()):
        if count > 1:
            problems.append(f"duplicate: {key} was sent {count} times")
    for message in sent:
        key = str(message.get("key"))
        headers = message.get("headers", {})
        parsed = _parse_key(key)
        if parsed is None:
            problems.append(f"unexpected key {key!r} (a resend or a foreign message)")
            continue
        rid, kind = parsed
        per_record_kind[(rid, kind)] += 1
        if headers.get("X-Recruit-Key") != key or headers.get("X-Recruit-Template") != kind:
            problems.append(f"{key}: X-Recruit-Key/Template headers do not match the property")
        row = by_id.get(rid)
        if row is None:
            problems.append(f"{key}: record {rid} does not exist")
            continue
        if kind in PARTICIPANT_KINDS:
            participant_mail[rid] += 1
            if message.get("recipients") != [row.get(EMAIL, "").strip()]:
                problems.append(f"{key}: not sent to record {rid}'s own address")
        elif tuple(message.get("recipients", ())) != rules.staff:
            problems.append(f"{key}: a staff alert not sent to the [safety] notify addresses")
        if kind == "invite" and row.get(STUDY_ID) and row[STUDY_ID] not in message.get("body", ""):
            problems.append(f"{key}: the invitation does not show record {rid}'s study ID")
        problems += _check_mark(rid, kind, key, row)
    for (rid, kind), count in sorted(per_record_kind.items()):
        if count > 1:
            problems.append(f"duplicate: record {rid} got {count} {kind} messages")
    for rid, count in sorted(participant_mail.items()):
        if count > 1:
            problems.append(f"duplicate: record {rid} got {count} participant messages")
    return problems


def _check_mark(rid: str, kind: str, key: str, row: Mapping[str, str]) -> list[str]:
    """A sent message must have its REDCap mark: status, timestamp, and `<key>|sent|`."""
    status_to, stamp = KINDS[kind]
    problems: list[str] = []
    claim = SENT_CLAIM.match(row.get(CLAIM, ""))
    if claim is None or claim["key"] != key:
        problems.append(f"{key}: sent but record {rid}'s claim is not '{key}|sent|<time>'")
    if not row.get(stamp):
        problems.append(f"{key}: sent but record {rid} has no {stamp}")
    status = row.get(STATUS, "")
    if status_to is not None and status != status_to:
        problems.append(f"{key}: sent but record {rid} is {status or 'blank'}, not {status_to}")
    if kind == "safety_alert" and status != "safety_review":
        problems.append(f"{key}: alerted but record {rid} left safety_review ({status})")
    return problems


def _check_records(
    by_id: Mapping[str, Mapping[str, str]], sent: Sequence[Mapping[str, Any]], rules: Rules
) -> list[str]:
    """Every record ends where it should, with what its status promises.

    A submission that is not ready (no consent) is left alone, except for the documented
    safety rule (screening checks not-ready submissions for safety, and only for safety): when
    the safety rule fires it goes to safety_review and staff are alerted, and nothing else.
    """
    problems: list[str] = []
    kinds_sent: dict[str, set[str]] = {}
    for message in sent:
        parsed = _parse_key(str(message.get("key")))
        if parsed is not None:
            kinds_sent.setdefault(parsed[0], set()).add(parsed[1])
    for rid, row in sorted(by_id.items(), key=lambda item: rid_key(item[0])):
        got = kinds_sent.get(rid, set())
        status = row.get(STATUS, "")
        problems += _check_marks_have_mail(rid, row, got)
        flagged = rules.safety_matches(row)
        if flagged and status != "safety_review":
            problems.append(f"record {rid} matches the safety rule but is {status or 'blank'}")
        if row.get("agree_participate") != "1":
            written = [f for f in PIPELINE if row.get(f)]
            allowed = set(SAFETY_ONLY) if flagged else set()
            if set(written) - allowed or got - ({"safety_alert"} if flagged else set()):
                problems.append(f"record {rid} is not ready but was touched: {written} {got}")
            if not flagged:
                continue
        if status not in TERMINAL | REVIEW:
            problems.append(f"lost: record {rid} is {status or 'blank'} after the calm phase")
            continue
        if status in REVIEW and got & PARTICIPANT_KINDS:
            problems.append(f"record {rid} is {status} but got participant mail {sorted(got)}")
        if status in REVIEW | {"ineligible_notified"}:
            lines = [line for line in row.get(REASONS, "").splitlines() if line.strip()]
            if not lines:
                problems.append(f"record {rid} is {status} without a reason")
            bad = [i for i, line in enumerate(lines) if not REASON_LINE.match(line)]
            if bad:
                problems.append(f"record {rid}: reason lines {bad} are not '<code>: <text>'")
        if status == "safety_review":
            if got != {"safety_alert"}:
                problems.append(f"record {rid} is safety_review; messages sent: {sorted(got)}")
        elif "safety_alert" in got:
            problems.append(f"record {rid} got a safety alert but is {status}")
        expected = {"eligible_invited": "invite", "ineligible_notified": "ineligible"}.get(status)
        if expected is not None:
            if got != {expected}:
                problems.append(f"record {rid} is {status}; messages sent: {sorted(got)}")
            if expected == "invite" and not (row.get(STUDY_ID) and row.get(GROUP)):
                problems.append(f"record {rid} was invited without a study ID and group")
    return problems


def _check_marks_have_mail(rid: str, row: Mapping[str, str], got: set[str]) -> list[str]:
    """Every mark in REDCap (a sent claim, a sent-at stamp) stands for a message that went out;
    no claim is left unresolved once the runs are quiet."""
    problems: list[str] = []
    value = row.get(CLAIM, "")
    claim = SENT_CLAIM.match(value)
    if claim is not None:
        parsed = _parse_key(claim["key"])
        if parsed is None or parsed[0] != rid or parsed[1] not in got:
            problems.append(f"record {rid}: claim says {claim['key']} was sent; it was not")
    elif value:
        problems.append(f"record {rid}: an unresolved claim is left ({value.split('|')[1:2]})")
    for kind, (_, stamp) in KINDS.items():
        if row.get(stamp) and kind not in got:
            problems.append(f"record {rid}: {stamp} is set but no {kind} message was sent")
    return problems


def _check_study_ids(by_id: Mapping[str, Mapping[str, str]], rules: Rules) -> list[str]:
    """Unique IDs, each within its record's group range, contiguous from the group's first."""
    problems: list[str] = []
    holders: dict[int, list[str]] = {}
    per_group: dict[str, list[int]] = {name: [] for name in rules.ranges}
    for rid, row in by_id.items():
        text = row.get(STUDY_ID, "").strip()
        if not text:
            continue
        if not text.isdigit():
            problems.append(f"record {rid}: study ID is not an integer")
            continue
        number = int(text)
        holders.setdefault(number, []).append(rid)
        group = row.get(GROUP, "")
        if group not in rules.ranges:
            problems.append(f"record {rid} holds a study ID but its group is {group!r}")
            continue
        first, last = rules.ranges[group]
        if not first <= number <= last:
            problems.append(f"record {rid}: study ID {number} is outside group {group}'s range")
        per_group[group].append(number)
    for number, rids in sorted(holders.items()):
        if len(rids) > 1:
            problems.append(f"duplicate: study ID {number} is held by records {sorted(rids)}")
    for name, numbers in per_group.items():
        first, _ = rules.ranges[name]
        if sorted(numbers) != list(range(first, first + len(numbers))):
            problems.append(f"group {name}: IDs are not contiguous from {first}")
    return problems


def rid_key(rid: str) -> tuple[int, str]:
    return (int(rid), "") if rid.isdigit() else (1 << 62, rid)
