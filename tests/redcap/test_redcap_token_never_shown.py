"""The token appears in no exception, traceback, log line or repr, whatever goes wrong."""

from __future__ import annotations

import socket
import traceback
from collections.abc import Callable

import pytest
from redcap_scripted import TOKEN, Answer, ScriptedServer

from recruit_cli.errors import RecruitError, RedcapError
from recruit_cli.redcap.client import RedcapClient
from recruit_cli.retry import Backoff
from recruit_cli.sandbox import Sandbox

FAST = Backoff(attempts=2, base=0.001, max_wait=0.01)

HTML = "<html><body>login</body></html>"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _everything_said(exc: BaseException) -> str:
    """str, repr and the full formatted traceback, chained causes included."""
    parts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts += [str(seen), repr(seen), repr(getattr(seen, "args", ()))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


ROWS = [{"record_id": "1", "x": "a"}, {"record_id": "2", "x": "b"}]

CASES: dict[str, tuple[list[Answer], Callable[[RedcapClient], object]]] = {
    "exhausted 503": ([Answer(503, "busy")], lambda c: c.export_records()),
    "429": ([Answer(429, "slow", headers={"Retry-After": "0"})], lambda c: c.export_metadata()),
    "403": (
        [Answer(403, '{"error": "You do not have permissions to use the API"}')],
        lambda c: c.export_project_info(),
    ),
    "400 echoing the token": (
        [Answer(400, f'{{"error": "bad token {TOKEN}"}}')],
        lambda c: c.export_records(),
    ),
    "200 error echoing the token": (
        [Answer(200, f'{{"error": "{TOKEN} is odd"}}')],
        lambda c: c.export_records(),
    ),
    "404 html": ([Answer(404, HTML)], lambda c: c.export_records()),
    "200 html": ([Answer(200, HTML)], lambda c: c.export_project_info()),
    "garbage": ([Answer(200, "{{{")], lambda c: c.export_metadata_rows()),
    "wrong shape": ([Answer(200, "{}")], lambda c: c.export_records(records=["1"])),
    "count mismatch": ([Answer(200, '{"count": 1}')], lambda c: c.import_records(ROWS)),
    "auto-number 503": (
        [Answer(503, "x")],
        lambda c: c.import_records(ROWS, force_auto_number=True),
    ),
    "metadata 500": ([Answer(500, "x")], lambda c: c.import_metadata([{"field_name": "a"}])),
    "hang": ([Answer(200, "[]", delay=0.5)], lambda c: c.export_logging()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_token_never_shown(
    case: str, server: ScriptedServer, redcap_log: pytest.LogCaptureFixture
) -> None:
    answers, call = CASES[case]
    server.queue(*answers)
    client = RedcapClient(server.url, TOKEN, timeout=0.2, backoff=FAST)
    with pytest.raises(RecruitError) as info:
        call(client)
    assert server.requests[0]["token"] == TOKEN  # it was sent, in the body
    said = _everything_said(info.value) + redcap_log.text + repr(client) + str(vars(info.value))
    assert TOKEN not in said
    assert TOKEN.lower() not in said.lower()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_token_never_shown_when_unreachable(
    scheme: str, server: ScriptedServer, redcap_log: pytest.LogCaptureFixture
) -> None:
    # http to a closed port: connection refused; https to an http server: a TLS failure.
    port = _closed_port() if scheme == "http" else server.httpd.server_port
    client = RedcapClient(f"{scheme}://127.0.0.1:{port}/api/", TOKEN, backoff=FAST)
    with pytest.raises(RecruitError) as info:
        client.export_records()
    assert "127.0.0.1" in str(info.value)
    said = _everything_said(info.value) + redcap_log.text + repr(client)
    assert TOKEN not in said


def test_repr_hides_the_token() -> None:
    client = RedcapClient("https://redcap.example.edu/api/", TOKEN)
    assert TOKEN not in repr(client) and "***" in repr(client)
    assert TOKEN not in str(client)


def test_rejected_values_are_withheld_from_redcap_error_text(sandbox: Sandbox) -> None:
    """REDCap quotes each rejected value in its validation error; that can be an answer."""
    client = RedcapClient(sandbox.url, sandbox.token)
    planted = "PLANTED-secret-answer"
    with pytest.raises(RedcapError) as caught:
        client.import_records(
            [
                {"record_id": "1", "booking_date": planted},
                {"record_id": "2", "booking_date": f'{planted} "quoted", too'},
            ]
        )
    message = str(caught.value)
    assert "booking_date" in message and "(value withheld)" in message
    assert "PLANTED" not in message and "secret" not in message
    client.close()
