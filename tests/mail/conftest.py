"""Fixtures for the mail tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from mail_support import make_settings

from recruit_cli.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)
