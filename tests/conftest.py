"""Shared fixtures: a REDCap-compatible sandbox on loopback, empty or seeded with demo data.

Both are function-scoped and cheap (in-memory SQLite, a thread, a free port), so each test
gets a project nobody else has written to.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from recruit_cli.sandbox import Sandbox, run_sandbox

DEMO_RECORDS = 200


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """An empty project with the demo data dictionary and no records."""
    with run_sandbox() as sb:
        yield sb


@pytest.fixture
def demo_sandbox() -> Iterator[Sandbox]:
    """The demo project seeded with DEMO_RECORDS reproducible synthetic submissions."""
    with run_sandbox(demo=DEMO_RECORDS) as sb:
        yield sb
