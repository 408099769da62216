"""Fixtures for the report tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recruit_cli.sandbox import Sandbox, run_sandbox

# Fallbacks until tests/conftest.py provides the shared fixtures (a local fixture of the
# same name would shadow the shared one, so these are only defined when it is missing).
if not (Path(__file__).parents[1] / "conftest.py").exists():

    @pytest.fixture
    def sandbox() -> Iterator[Sandbox]:
        with run_sandbox() as sb:
            yield sb

    @pytest.fixture
    def demo_sandbox() -> Iterator[Sandbox]:
        with run_sandbox(demo=40) as sb:
            yield sb
