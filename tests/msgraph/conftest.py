"""Fixtures: a fake Graph + identity server per test, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recruit_cli.msgraph.auth import MicrosoftAuth
from recruit_cli.sandbox.microsoft import MicrosoftSandbox, run_microsoft_sandbox
from recruit_cli.settings import (
    EmailSettings,
    GraphSettings,
    RedcapSettings,
    Secret,
    Settings,
    StudySettings,
)

LAB_MAILBOX = "lab@example.org"

MakeSettings = Callable[..., Settings]


@pytest.fixture
def fake() -> Iterator[MicrosoftSandbox]:
    with run_microsoft_sandbox() as server:
        yield server


@pytest.fixture
def make_settings(fake: MicrosoftSandbox, tmp_path: Path) -> MakeSettings:
    """Settings for one mode against the fake; keyword arguments override GraphSettings."""

    def build(mode: str = "delegated", per_minute: int = 0, **graph: object) -> Settings:
        values: dict[str, object] = {
            "mode": mode,
            "client_id": fake.client_id,
            "tenant_id": fake.tenant_id,
            "authority_host": fake.authority_host,
            "endpoint": fake.endpoint,
            "ca_bundle": fake.ca_bundle,
            "mailbox": "" if mode == "delegated" else LAB_MAILBOX,
            "client_secret": Secret(fake.client_secret if mode == "app" else ""),
            "timeout": 5.0,
        }
        values.update(graph)
        return Settings(
            path=None,
            study=StudySettings(name="Test study"),
            redcap=RedcapSettings(url="https://redcap.example.org/api/"),
            email=EmailSettings(
                transport="graph",
                sender=LAB_MAILBOX,
                per_minute=per_minute,
                graph=GraphSettings(**values),  # type: ignore[arg-type]
            ),
            state_dir=tmp_path / "state",
        )

    return build


@pytest.fixture
def signed_in(make_settings: MakeSettings) -> Callable[..., MicrosoftAuth]:
    """A MicrosoftAuth that has completed sign-in (device code; app mode: client credentials)."""

    def login(mode: str = "delegated", **graph: object) -> MicrosoftAuth:
        auth = MicrosoftAuth.from_settings(make_settings(mode, **graph))
        auth.login()
        return auth

    return login
