"""Fixtures for the screening tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from screening_data import SettingsFactory, build_settings

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox, run_sandbox
from recruit_cli.settings import Settings


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    def factory(**kw: Any) -> Settings:
        return build_settings(tmp_path, **kw)

    return factory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    """An empty sandbox project with the demo data dictionary."""
    with run_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sb_settings(sb: Sandbox, make_settings: SettingsFactory) -> Settings:
    return make_settings(url=sb.url, token=sb.token)


@pytest.fixture
def client(sb_settings: Settings) -> Iterator[RedcapClient]:
    with RedcapClient.from_settings(sb_settings, backoff=Backoff(attempts=1)) as c:
        yield c
