"""Fetching from REDCap when the API user may not read the project's log."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from report_support import NOW, make_settings, twenty, without_submitted_field

from recruit_cli.redcap.client import RedcapClient
from recruit_cli.report.run import build_report
from recruit_cli.retry import Backoff

# REDCap's answer when the token's user lacks the Logging right (a 4xx with an error body).
REFUSAL = {"error": "You do not have permissions to use this API method (Logging)."}


class NoLogging(BaseHTTPRequestHandler):
    """A REDCap API that exports records but refuses ``content=log``."""

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if form["content"] == ["log"]:
            status, body = 400, REFUSAL
        else:
            status, body = 200, twenty()
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def no_logging_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), NoLogging)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_log_export_still_gives_the_report(no_logging_url: str) -> None:
    settings = without_submitted_field(make_settings())
    with RedcapClient(no_logging_url, "A" * 32, backoff=Backoff(attempts=1)) as client:
        data = build_report(settings, client, week="2026-W47", now=NOW)
    quality = {q.problem: q.records for q in data.quality}
    assert quality["log_export_refused"] == 20 and "no_submission_time" not in quality
    assert "refused" in data.submitted_source
    # Everything that does not need a submission time is still counted.
    assert data.flow_line("screened").period == 13  # type: ignore[union-attr]
    assert data.flow_line("submitted").cumulative == 0  # type: ignore[union-attr]
    assert all(t.n == 0 for t in data.timing)
