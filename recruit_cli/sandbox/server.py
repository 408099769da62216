"""The HTTP side: ``POST /api/`` on a threading server, faults applied around each call."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from recruit_cli.sandbox.api import handle
from recruit_cli.sandbox.faults import Faults
from recruit_cli.sandbox.params import ApiError, Params, Response, error_response, return_format
from recruit_cli.sandbox.project import Project

log = logging.getLogger("recruit.sandbox")
MAX_BODY = 512 * 1024 * 1024  # a large import, not a memory exhaustion


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], project: Project, faults: Faults) -> None:
        super().__init__(address, ApiRequestHandler)
        self.project = project
        self.faults = faults

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-request (a cron job killed with SIGKILL, a timeout) is
        # normal life for a server; socketserver would print a traceback to stderr for it.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.debug("client %s went away: %s", client_address[0], type(exc).__name__)
            return
        super().handle_error(request, client_address)


class ApiRequestHandler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: don't wait for ACKs
    server_version = "recruit-sandbox"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        # Only the request line and status: the body (and so any data) is never logged.
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        if self.path.split("?")[0].rstrip("/") == "/api":
            self._send(error_response(405, "The REDCap API takes POST requests", "json"))
        else:
            self._send(error_response(404, "Not found: the API is at /api/", "json"))

    def do_POST(self) -> None:
        if self.path.split("?")[0].rstrip("/") == "/surveys":
            self._survey()
            return
        if self.path.split("?")[0].rstrip("/") != "/api":
            self._discard_body()
            self._send(error_response(404, "Not found: the API is at /api/", "json"))
            return
        decision = self.server.faults.decide()
        body = self._read_body()
        if body is None:
            return
        if decision.drop:
            self._drop()
            return
        if decision.status is not None:
            self._send_fault(decision.status)
            return
        try:
            params = Params.parse(self.headers.get("Content-Type", ""), body)
        except ApiError as exc:
            self._send(error_response(exc.status, exc.message, "json"))
            return
        try:
            outcome = handle(self.server.project, params)
        except Exception:  # a sandbox bug: answer as REDCap would, and say so in the log
            log.exception("sandbox error on content=%s", params.get("content"))
            outcome_response = error_response(
                500, "Internal error in the sandbox", return_format(params)
            )
            self._send(outcome_response)
            return
        if decision.delay:
            time.sleep(decision.delay)
        # Only a write that committed counts towards drop-after-commit (and draws for it).
        committed = outcome.committed_write and decision.drop_after_commit
        if committed and self.server.faults.drop_this_write():
            self._drop()
            return
        self._send(outcome.response)

    def _survey(self) -> None:
        """Not REDCap's API: a POST of answers to a survey link submits a response, the way
        a participant's browser would (docs/sandbox.md). Faults do not apply."""
        from urllib.parse import parse_qs, urlsplit

        from recruit_cli.sandbox.survey import resolve, submit_survey

        body = self._read_body()
        if body is None:
            return
        code = parse_qs(urlsplit(self.path).query).get("s", [""])[0]
        project = self.server.project
        t = resolve(project, code) if code else None
        if t is None:
            self._send(error_response(404, "No survey has this link", "json"))
            return
        try:
            params = Params.parse(self.headers.get("Content-Type", ""), body)
            answers = {k: v[0] for k, v in params.values.items() if v}
            record = submit_survey(
                project,
                t.form,
                answers,
                record=t.record or None,
                event=t.event,
                instance=t.instance,
            )
        except ApiError as exc:
            self._send(error_response(exc.status, exc.message, "json"))
            return
        answer = json.dumps({"record": record}).encode()
        self._send(Response(200, answer, "application/json; charset=utf-8"))

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._send(error_response(400, "The request has no valid Content-Length", "json"))
            return None
        return self.rfile.read(length) if length else b""

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if 0 < length <= MAX_BODY:
            self.rfile.read(length)

    def _send_fault(self, status: int) -> None:
        phrase = HTTPStatus(status).phrase
        body = f"<html><body><h1>{status} {phrase}</h1></body></html>".encode()
        headers: tuple[tuple[str, str], ...] = ()
        if status in (429, 503):
            headers = (("Retry-After", str(self.server.faults.retry_after)),)
        self._send(Response(status, body, "text/html; charset=utf-8", headers))

    def _drop(self) -> None:
        """Close the socket with nothing sent: the client sees a dropped connection."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. it timed out)


def start(server: SandboxServer) -> threading.Thread:
    # A short poll interval makes shutdown() quick: tests start and stop many sandboxes.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="recruit-sandbox", daemon=True
    )
    thread.start()
    return thread
