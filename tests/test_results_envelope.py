"""The contract of `--json`: the `recruit.result/1` envelope, every command's `data` keys.

Scripts and monitors read these keys; a change here is a change of the schema version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from recruit_cli.exit_codes import ExitCode
from recruit_cli.msgraph.auth import SignInStatus
from recruit_cli.msgraph.outcomes import SignOut, TokenCheck
from recruit_cli.ops.run import RunDetails, StepOutcome
from recruit_cli.outreach.result import OutreachDetails
from recruit_cli.report.run import ReportDetails
from recruit_cli.results import Details, PassResult, RecordAction, combine
from recruit_cli.screening.assign import AssignDetails
from recruit_cli.screening.screen import ScreenDetails

SCREEN = ScreenDetails(safety_flagged=("5",), not_ready=2)
ALERTS = OutreachDetails(transport="outbox", sent=1, redcap_calls=3)
STATUS = SignInStatus(
    mode="delegated",
    signed_in=True,
    username="coordinator@example.edu",
    cache_path=Path("/state/msal_token_cache.bin"),
    authority="https://login.microsoftonline.com/organizations",
    expires_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
)
SIGN_IN_DATA = {
    "mode": "delegated",
    "signed_in": True,
    "username": "coordinator@example.edu",
    "cache_path": "/state/msal_token_cache.bin",
    "authority": "https://login.microsoftonline.com/organizations",
    "expires_at": "2026-01-05T09:00:00+00:00",
}


def test_the_envelope() -> None:
    result = PassResult(
        command="screen",
        actions=(
            RecordAction("1", "eligible", "group HC"),
            RecordAction("2", "review", "not written: locked", ok=False),
        ),
        notices=("SAFETY: record 5 needs staff review",),
        exit_code=ExitCode.PARTIAL,
        details=(SCREEN,),
    )
    assert result.to_dict() == {
        "schema": "recruit.result/1",
        "command": "screen",
        "ok": False,
        "exit_code": 5,
        "dry_run": False,
        "counts": {"eligible": 1, "review": 1},
        "records": [
            {"record_id": "1", "action": "eligible", "detail": "group HC", "ok": True},
            {"record_id": "2", "action": "review", "detail": "not written: locked", "ok": False},
        ],
        "notices": ["SAFETY: record 5 needs staff review"],
        "data": {"safety_flagged": ["5"], "not_ready": 2},
    }


def test_no_details_no_data() -> None:
    assert "data" not in PassResult(command="assign").to_dict()


@pytest.mark.parametrize(
    ("details", "data"),
    [
        ((ScreenDetails(safety_flagged=()),), {"safety_flagged": []}),
        ((AssignDetails(rounds=1, unique_field=True),), {"rounds": 1, "unique_field": True}),
        ((ALERTS,), {"transport": "outbox", "sent": 1, "redcap_calls": 3}),
        (
            (
                RunDetails(
                    (
                        StepOutcome(
                            "screen", PassResult("screen", actions=(RecordAction("1", "eligible"),))
                        ),
                        StepOutcome("alert", None, error="mail down", exit_code=ExitCode(4)),
                        StepOutcome("invite", None, error="skipped: mail down", skipped=True),
                    )
                ),
            ),
            {
                "steps": [
                    {
                        "step": "screen",
                        "exit_code": 0,
                        "skipped": False,
                        "error": "",
                        "counts": {"eligible": 1},
                    },
                    {
                        "step": "alert",
                        "exit_code": 4,
                        "skipped": False,
                        "error": "mail down",
                        "counts": {},
                    },
                    {
                        "step": "invite",
                        "exit_code": 0,
                        "skipped": True,
                        "error": "skipped: mail down",
                        "counts": {},
                    },
                ]
            },
        ),
        (
            (
                ReportDetails(
                    period="2026-W47",
                    format="html",
                    path=Path("reports/enrollment-2026-W47.html"),
                    written=True,
                    recipients=2,
                    emailed=False,
                    summary=(("submitted", "12"), ("invited", "suppressed")),
                ),
            ),
            {
                "period": "2026-W47",
                "format": "html",
                "path": "reports/enrollment-2026-W47.html",
                "written": True,
                "recipients": 2,
                "emailed": False,
                "summary": {"submitted": "12", "invited": "suppressed"},
            },
        ),
        ((STATUS,), SIGN_IN_DATA),
        (
            (STATUS, TokenCheck(test_message="sent (id abc)")),
            {**SIGN_IN_DATA, "token": "acquired silently", "test message": "sent (id abc)"},
        ),
        ((STATUS, TokenCheck()), {**SIGN_IN_DATA, "token": "acquired silently"}),
        (
            (SignOut(accounts_removed=1, cache_path=Path("/state/c.bin")),),
            {"accounts_removed": 1, "cache_path": "/state/c.bin"},
        ),
    ],
)
def test_each_commands_data(details: tuple[Details, ...], data: dict[str, Any]) -> None:
    envelope = PassResult(command="x", details=details).to_dict()
    assert envelope["data"] == data
    assert json.loads(json.dumps(envelope)) == envelope  # JSON-safe as it is


def test_screen_with_its_alerts_carries_both() -> None:
    screened = PassResult("screen", details=(SCREEN,))
    alerted = PassResult("alert", actions=(RecordAction("5", "alerted"),), details=(ALERTS,))
    both = combine("screen", screened, alerted)
    assert both.to_dict()["data"] == {
        "safety_flagged": ["5"],
        "not_ready": 2,
        "transport": "outbox",
        "sent": 1,
        "redcap_calls": 3,
    }
    assert both.detail(ScreenDetails) is SCREEN and both.detail(OutreachDetails) is ALERTS
    assert both.find(AssignDetails) is None
    with pytest.raises(LookupError, match="screen result has no AssignDetails"):
        both.detail(AssignDetails)
