"""Shared test data and helpers for the outreach tests (sandbox + real transports)."""

from __future__ import annotations

import copy
import email
import email.message
import email.policy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from recruit_cli.config import settings_from_mapping
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.settings import Settings, Status

# A fixture (see conftest.py) building settings for the test's sandbox, with overrides.
MakeSettings = Callable[..., Settings]

STAFF = "oncall@example.org"
SENDER = "team@example.org"
TOKEN_ENV = "REDCAP_API_TOKEN"

CONFIG: dict[str, Any] = {
    "study": {"name": "Test study", "timezone": "America/Los_Angeles"},
    "redcap": {"url": "http://127.0.0.1:9/api/", "token_env": TOKEN_ENV},
    "fields": {
        "email": "participant_email",
        "study_id": "assigned_study_id",
        "language": "preferred_language",
        "do_not_contact": "do_not_contact",
    },
    "safety": {"when": "[qids_12] >= 2", "notify": [STAFF]},
    "email": {
        "transport": "outbox",
        "sender": SENDER,
        "booking_url": "https://book.example.org/lab",
        "per_minute": 0,
    },
}


def config_data(tmp: Path, *, url: str, **changes: Any) -> dict[str, Any]:
    """CONFIG for a sandbox at ``url``; ``changes`` replace (or, for dicts, update) tables."""
    data = copy.deepcopy(CONFIG)
    data["redcap"]["url"] = url
    data["state_dir"] = str(tmp / "state")
    data["email"]["outbox_dir"] = str(tmp / "outbox")
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return data


def build_settings(
    tmp: Path, *, url: str, token: str, environ: Mapping[str, str] | None = None, **changes: Any
) -> Settings:
    data = config_data(tmp, url=url, **changes)
    return settings_from_mapping(data, environ={TOKEN_ENV: token, **(environ or {})})


GRAPH_SECRET_ENV = "RECRUIT_GRAPH_CLIENT_SECRET"
LAB_MAILBOX = "lab@example.org"


def graph_table(fake: Any, **overrides: Any) -> dict[str, Any]:
    """``[email]`` for app-only Graph sending through the fake server."""
    graph = {
        "mode": "app",
        "client_id": fake.client_id,
        "tenant_id": fake.tenant_id,
        "authority_host": fake.authority_host,
        "endpoint": fake.endpoint,
        "ca_bundle": str(fake.ca_bundle),
        "mailbox": LAB_MAILBOX,
        "timeout": 5.0,
        **overrides,
    }
    return {"transport": "graph", "sender": LAB_MAILBOX, "graph": graph}


def person(rid: str, status: Status | str, **fields: str) -> dict[str, str]:
    """A record in ``status`` with an address (and a study id when it is to be invited)."""
    row = {
        "record_id": rid,
        "pipeline_processing_status": str(status),
        "participant_email": f"person{rid}@example.org",
        "qids_12": "0",
    }
    if status == Status.ELIGIBLE_ID_ASSIGNED:
        row["assigned_study_id"] = str(3000 + int(rid))
    row.update(fields)
    return row


def records(client: RedcapClient, *ids: str) -> dict[str, dict[str, str]]:
    rows = client.export_records(records=list(ids) or None)
    return {row["record_id"]: row for row in rows}


def outbox(settings: Settings) -> dict[str, email.message.EmailMessage]:
    """The outbox's messages by their X-Recruit-Key."""
    found: dict[str, email.message.EmailMessage] = {}
    directory = settings.email.outbox_dir
    if not directory.exists():
        return found
    for path in sorted(directory.glob("*.eml")):
        if path.name.startswith("."):  # a temporary file a crash left before its rename
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, email.message.EmailMessage)
        found[str(message["X-Recruit-Key"])] = message
    return found


def body(message: email.message.EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def toml(data: Mapping[str, Any]) -> str:
    """A small TOML writer for the test configs (tables, strings, numbers, lists)."""
    lines: list[str] = []

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    def table(prefix: str, d: Mapping[str, Any]) -> None:
        scalars = {k: v for k, v in d.items() if not isinstance(v, dict)}
        if prefix:
            lines.append(f"[{prefix}]")
        lines.extend(f"{k} = {value(v)}" for k, v in scalars.items())
        for k, v in d.items():
            if isinstance(v, dict):
                table(f"{prefix}.{k}" if prefix else k, v)

    table("", data)
    return "\n".join(lines) + "\n"
