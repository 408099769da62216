"""Shared test data for the screening tests: the demo study's configuration, as data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recruit_cli.config import settings_from_mapping
from recruit_cli.settings import Settings

DEMO_CONFIG: dict[str, Any] = {
    "study": {"name": "Test study", "timezone": "America/Los_Angeles"},
    "redcap": {"url": "http://127.0.0.1:9/api/", "token_env": "REDCAP_API_TOKEN"},
    "fields": {
        "email": "participant_email",
        "study_id": "assigned_study_id",
        "language": "preferred_language",
        "do_not_contact": "do_not_contact",
        "booked_at": "booking_date",
    },
    "screening": {
        "ready": "[agree_participate] = '1'",
        "criteria": [
            {"name": "age", "require": "[age] >= 18 and [age] <= 65", "reason": "Must be 18-65"},
            {"name": "travel", "require": "[travel] = '1'", "reason": "Must travel to the lab"},
            {"name": "english", "require": "[english] = '1'", "reason": "Must be fluent"},
            {"name": "tms", "require": "[tms_contra] = '0'", "reason": "TMS contraindication"},
        ],
    },
    "qids": {"total": "qids_score"},
    "safety": {"when": "[qids_12] >= 2", "notify": ["oncall@example.org"]},
    "groups": [
        {
            "name": "HC",
            "label": "Healthy control",
            "when": "[qids_total] <= 5",
            "first_id": 3000,
            "last_id": 10199,
        },
        {
            "name": "MDD",
            "label": "Depression",
            "when": "[qids_total] >= 11 and [qids_total] <= 20",
            "first_id": 10200,
            "last_id": 20000,
        },
    ],
    "email": {
        "transport": "outbox",
        "sender": "team@example.org",
        "booking_url": "https://example.org/book",
    },
}

# A record that is eligible for HC under DEMO_CONFIG; tests change one thing at a time.
GOOD: dict[str, str] = {
    "record_id": "1",
    "agree_participate": "1",
    "age": "30",
    "travel": "1",
    "english": "1",
    "tms_contra": "0",
    "qids_score": "3",
    "qids_12": "0",
    "participant_email": "person@example.org",
    "preferred_language": "en",
}

SettingsFactory = Callable[..., Settings]


def build_settings(
    tmp: Path, *, url: str = "http://127.0.0.1:9/api/", token: str = "0" * 32, **changes: Any
) -> Settings:
    """Settings from DEMO_CONFIG with top-level tables replaced by ``changes``."""
    data = copy.deepcopy(DEMO_CONFIG)
    data["redcap"]["url"] = url
    data["state_dir"] = str(tmp / "state")
    data["email"]["outbox_dir"] = str(tmp / "outbox")
    for key, value in changes.items():
        data[key] = value
    return settings_from_mapping(data, environ={"REDCAP_API_TOKEN": token})


def pipeline_state(client: Any, ids: list[str] | None = None) -> dict[str, dict[str, str]]:
    """record id -> the record's current values (every field), read back from REDCap."""
    rows = client.export_records(records=ids)
    return {r["record_id"]: r for r in rows}


def write_config(tmp: Path, url: str, **changes: Any) -> Path:
    """A recruit.toml for CLI tests (the token comes from $REDCAP_API_TOKEN)."""
    import json

    data = copy.deepcopy(DEMO_CONFIG)
    data["redcap"]["url"] = url
    data["state_dir"] = str(tmp / "state")
    data["email"]["outbox_dir"] = str(tmp / "outbox")
    data.update(changes)
    lines: list[str] = [f"state_dir = {json.dumps(data.pop('state_dir'))}"]
    arrays = {"groups": data.pop("groups")}
    screening = data["screening"]
    criteria = screening.pop("criteria")
    flags = screening.pop("flags", [])
    for table, values in data.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items() if not isinstance(v, dict)]
    for c in criteria:
        lines.append("[[screening.criteria]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in c.items()]
    for flag in flags:
        lines.append("[[screening.flags]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in flag.items()]
    for g in arrays["groups"]:
        lines.append("[[groups]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in g.items()]
    path = tmp / "recruit.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
