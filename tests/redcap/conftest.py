"""Fixtures for the REDCap client tests: a scripted server, a fast client, log capture."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from redcap_scripted import TOKEN, ScriptedServer

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.sandbox import Sandbox, run_sandbox


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[RedcapClient]:
    """A client with tiny waits so retry tests stay fast."""
    with RedcapClient(
        server.url, TOKEN, timeout=2.0, max_attempts=3, backoff_base=0.001, max_wait=0.01
    ) as c:
        yield c


@pytest.fixture
def redcap_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture the client's logs at every level (the CLI stops "recruit" propagating)."""
    logger = logging.getLogger("recruit")
    attach = not logger.propagate
    if attach:
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG, logger="recruit")
    yield caplog
    if attach:
        logger.removeHandler(caplog.handler)


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
