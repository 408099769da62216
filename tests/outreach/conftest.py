"""Fixtures for the outreach tests: a sandbox project, settings and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from outreach_support import MakeSettings, build_settings
from smtp_support import Handler, smtp_server

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.settings import Settings


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """An empty sandbox project with the demo data dictionary."""
    with run_sandbox(faults="") as sandbox:
        yield sandbox


@pytest.fixture
def make_settings(sb: Sandbox, tmp_path: Path) -> MakeSettings:
    def build(environ: dict[str, str] | None = None, **changes: Any) -> Settings:
        return build_settings(tmp_path, url=sb.url, token=sb.token, environ=environ, **changes)

    return build


@pytest.fixture
def settings(make_settings: MakeSettings) -> Settings:
    return make_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[RedcapClient]:
    with RedcapClient.from_settings(settings, backoff=Backoff(attempts=1)) as c:
        yield c


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, int]]:
    """A real SMTP server on loopback: its handler (what it received) and its port."""
    with smtp_server() as server:
        yield server
