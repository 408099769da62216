"""Shared helpers for the mail tests: settings built directly, sample contexts.

Imported by the test modules (pytest puts this directory on sys.path).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from recruit_cli.settings import EmailSettings, RedcapSettings, Settings, StudySettings

SENDER = "study-team@example.org"
BOOKING_URL = "https://outlook.office365.com/book/DemoStudy@example.org/?a=1&b=2"
PARTICIPANT = "participant@example.com"

# The values each kind's caller passes (see the compose() contract).
SAMPLE_CONTEXT: dict[str, dict[str, Any]] = {
    "invite": {"study_id": "3001"},
    "ineligible": {},
    "safety_alert": {
        "record_id": "17",
        "rule": "safety",
        "fired_at": "2025-01-06T09:30:00+00:00",
        "ack_field": "pipeline_safety_acknowledged",
    },
    "report": {
        "period": "2025-01-06 to 2025-01-12",
        "summary": [("New submissions", "12"), ("Invited", "5"), ("Booked", "3")],
        "attached": False,
        "filename": "enrollment-2025-W02.html",
        "report_link": "https://share.example.org/reports/enrollment-2025-W02.html",
    },
}


def make_settings(tmp_path: Path, **email: Any) -> Settings:
    """Settings with the demo study's name and an outbox under ``tmp_path``."""
    base = EmailSettings(sender=SENDER, booking_url=BOOKING_URL, outbox_dir=tmp_path / "outbox")
    return Settings(
        path=None,
        study=StudySettings(name="Demo TMS-EEG study"),
        redcap=RedcapSettings(url="http://127.0.0.1:9/api/"),
        email=dataclasses.replace(base, **email),
    )
