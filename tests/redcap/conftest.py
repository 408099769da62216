"""Fixtures for the REDCap client tests: a scripted server, a fast client, log capture."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from redcap_scripted import TOKEN, ScriptedServer

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[RedcapClient]:
    """A client with tiny waits so retry tests stay fast."""
    with RedcapClient(
        server.url, TOKEN, timeout=2.0, backoff=Backoff(attempts=3, base=0.001, max_wait=0.01)
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
