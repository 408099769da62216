"""Frozen result objects that every pass returns, rendered separately (see ``render``).

A result holds no e-mail addresses, names or answers: record ids, statuses, criterion
codes and readable reasons only, so it is always safe to print or to log.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from recruit_cli.exit_codes import ExitCode, worst

JSON_SCHEMA = "recruit.result/1"


@dataclass(frozen=True)
class RecordAction:
    """What a pass did (or, under --dry-run, would do) to one record."""

    record_id: str
    action: str  # a stable verb: "eligible", "ineligible", "review", "assigned", "invited", ...
    detail: str = ""  # readable reason or value (a study id, a criterion list); never PHI
    ok: bool = True  # False: this record failed; the pass went on


@dataclass(frozen=True)
class PassResult:
    command: str
    dry_run: bool = False
    actions: tuple[RecordAction, ...] = ()
    notices: tuple[str, ...] = ()  # one-line messages for the operator
    exit_code: ExitCode = ExitCode.OK
    extra: dict[str, Any] = field(default_factory=dict)  # command-specific, JSON-safe

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(a.action for a in self.actions).items()))

    @property
    def failed(self) -> tuple[RecordAction, ...]:
        return tuple(a for a in self.actions if not a.ok)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": JSON_SCHEMA,
            "command": self.command,
            "ok": self.exit_code == ExitCode.OK,
            "exit_code": int(self.exit_code),
            "dry_run": self.dry_run,
            "counts": self.counts,
            "records": [
                {"record_id": a.record_id, "action": a.action, "detail": a.detail, "ok": a.ok}
                for a in self.actions
            ],
            "notices": list(self.notices),
            **({"data": self.extra} if self.extra else {}),
        }


def combine(command: str, *results: PassResult) -> PassResult:
    """Fold several pass results into one (e.g. screen + the safety alerts it triggers)."""
    extra: dict[str, object] = {}
    for r in results:
        extra.update(r.extra)
    return PassResult(
        command=command,
        dry_run=any(r.dry_run for r in results),
        actions=tuple(a for r in results for a in r.actions),
        notices=tuple(n for r in results for n in r.notices),
        exit_code=worst([r.exit_code for r in results]),
        extra=extra,
    )
