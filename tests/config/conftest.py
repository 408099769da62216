"""Fixtures for the configuration tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_samples import GOOD


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A study directory holding the good recruit.toml."""
    (tmp_path / "recruit.toml").write_text(GOOD, encoding="utf-8")
    return tmp_path
