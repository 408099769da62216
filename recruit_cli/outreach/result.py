"""What an outreach pass returns: its actions, one per record, and ``OutreachDetails``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recruit_cli.exit_codes import ExitCode, worst
from recruit_cli.results import PassResult, RecordAction


@dataclass(frozen=True)
class OutreachDetails:
    """What invite, notify and the safety alerts return besides their actions."""

    transport: str  # "outbox" | "smtp" | "graph"
    sent: int  # messages handed to the transport by this pass
    redcap_calls: int = 0  # API calls the pass made (benchmarks count them)

    def to_dict(self) -> dict[str, Any]:
        return {"transport": self.transport, "sent": self.sent, "redcap_calls": self.redcap_calls}


@dataclass
class Tally:
    """The outcome of each record as the pass goes: a later outcome replaces an earlier one
    (a record sent, then its mark refused, is told as the refusal)."""

    command: str
    actions: dict[str, RecordAction] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    sent: int = 0

    # A record moved to review is handled, not failed: it is written, with its reason, to
    # the queue staff work from (as screening does with malformed data), so it doesn't
    # make the pass exit 5. ok=False is for records this pass could not bring anywhere.
    def act(self, rid: str, action: str, detail: str = "", *, ok: bool = True) -> None:
        self.add(RecordAction(rid, action, detail, ok))

    def add(self, action: RecordAction) -> None:
        self.actions.pop(action.record_id, None)  # the latest outcome, in the latest place
        self.actions[action.record_id] = action

    def result(self, transport: str, *, dry_run: bool, code: ExitCode) -> PassResult:
        actions = tuple(self.actions.values())
        if any(not a.ok for a in actions):
            code = worst([code, ExitCode.PARTIAL])
        return PassResult(
            command=self.command,
            dry_run=dry_run,
            actions=actions,
            notices=tuple(self.notices),
            exit_code=code,
            details=(OutreachDetails(transport, self.sent),),
        )
