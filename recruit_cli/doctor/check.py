"""The rows of `recruit doctor`'s checklist and the report they make up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recruit_cli.exit_codes import ExitCode, worst

SCHEMA = "recruit.doctor/1"
OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    state: str  # "ok" | "warn" | "fail"
    detail: str = ""
    exit_code: ExitCode = ExitCode.OK  # the code this failure means


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def exit_code(self) -> ExitCode:
        return worst([c.exit_code for c in self.checks if c.state == FAIL])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "ok": self.exit_code == ExitCode.OK,
            "exit_code": int(self.exit_code),
            "checks": [{"name": c.name, "state": c.state, "detail": c.detail} for c in self.checks],
        }
