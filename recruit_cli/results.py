"""Frozen result objects that every pass returns, rendered separately (``cli.render``).

A result holds no e-mail addresses, names or answers: record ids, statuses, criterion
codes and readable reasons only, so it is always safe to print or to log.

What is particular to one command (the records screen sent to safety review, the path
report wrote, each step of run, ...) is a typed ``Details`` object defined beside the
command (``ScreenDetails``, ``ReportDetails``, ``RunDetails``, ...); ``result.detail(
ScreenDetails)`` reads it back. In the JSON envelope (``recruit.result/1``) all of a
result's details are merged into its ``data`` object, under the keys each one's
``to_dict`` gives; tests/test_results_envelope.py pins those keys.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from recruit_cli.exit_codes import ExitCode, worst

JSON_SCHEMA = "recruit.result/1"


class Details(Protocol):
    """A command's own part of its result: frozen, typed, and JSON-safe as a dict."""

    def to_dict(self) -> dict[str, Any]: ...


D = TypeVar("D", bound=Details)


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
    details: tuple[Details, ...] = ()  # command-specific (one per pass, more when combined)

    @property
    def counts(self) -> dict[str, int]:
        return dict(sorted(Counter(a.action for a in self.actions).items()))

    @property
    def failed(self) -> tuple[RecordAction, ...]:
        return tuple(a for a in self.actions if not a.ok)

    def detail(self, kind: type[D]) -> D:
        """This result's details of type ``kind``, e.g. ``result.detail(ScreenDetails)``.

        Raises:
            LookupError: the result carries none (a programming error: each command
                documents what it returns).
        """
        found = self.find(kind)
        if found is None:
            raise LookupError(f"the {self.command} result has no {kind.__name__}")
        return found

    def find(self, kind: type[D]) -> D | None:
        """This result's details of type ``kind``, or None."""
        return next((d for d in self.details if isinstance(d, kind)), None)

    @property
    def data(self) -> dict[str, Any]:
        """Every detail as one JSON-safe dict (the envelope's ``data``)."""
        out: dict[str, Any] = {}
        for d in self.details:
            out.update(d.to_dict())
        return out

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
            **({"data": data} if (data := self.data) else {}),
        }


def combine(command: str, *results: PassResult) -> PassResult:
    """Fold several pass results into one (e.g. screen + the safety alerts it triggers)."""
    return PassResult(
        command=command,
        dry_run=any(r.dry_run for r in results),
        actions=tuple(a for r in results for a in r.actions),
        notices=tuple(n for r in results for n in r.notices),
        exit_code=worst([r.exit_code for r in results]),
        details=tuple(d for r in results for d in r.details),
    )
