"""The request handler's plumbing, shared by the identity and the Graph mail routes."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

if TYPE_CHECKING:
    from recruit_cli.sandbox.microsoft.server import MicrosoftSandbox


class BaseHandler(BaseHTTPRequestHandler):
    """Reading forms, answering JSON, and the error shapes of both services."""

    protocol_version = "HTTP/1.1"  # keep-alive, as Graph does
    server_version = "RecruitMicrosoftSandbox/1"
    disable_nagle_algorithm = True  # headers and body go in two writes: don't wait for ACKs

    @property
    def state(self) -> MicrosoftSandbox:
        """The stand-in's state (set on the server by ``run_microsoft_sandbox``)."""
        state: MicrosoftSandbox = self.server.state  # type: ignore[attr-defined]
        return state

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines would carry mailbox addresses."""

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self._body().decode("utf-8")).items()}

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8") if payload is not None else b""
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _oauth_error(self, status: int, error: str, code: int, text: str) -> None:
        """The identity platform's error shape (``AADSTS`` codes)."""
        self._send_json(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {text}",
                "error_codes": [code],
            },
        )

    def _graph_error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        """Graph's error shape."""
        self._send_json(status, {"error": {"code": code, "message": message}}, headers)
