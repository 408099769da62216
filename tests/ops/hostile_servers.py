"""Hostile servers on loopback: a REDCap that drips, never ends, or answers what wasn't asked;
a Graph and an SMTP server that answer a byte at a time.

``HostileRedcap`` is a proxy in front of a real sandbox: every call goes through to the
sandbox (so what REDCap holds can be checked afterwards) unless a rule says otherwise for
that call. It records every call it saw (the token left out).
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import requests

Form = dict[str, str]
Match = Callable[[Form], bool]

DRIP_SECONDS = 0.5  # one byte this often: always well inside any read timeout
GUARD_SECONDS = 120.0  # a dripping answer gives up after this (a hang guard for the tests)


def call(content: str, action: str = "") -> Match:
    """Matches a REDCap API call: ``call("record", "export")``, ``call("project")``."""

    def match(form: Form) -> bool:
        if form.get("content") != content:
            return False
        return not action or form.get("action", "export") == action

    return match


@dataclass
class Drip:
    """200, then one byte every ``interval`` seconds, for ever (until the client goes)."""

    interval: float = DRIP_SECONDS


@dataclass
class Endless:
    """200, then a JSON array of ``row`` that never ends (stops after ``limit_mb``)."""

    row: dict[str, str] = field(default_factory=lambda: {"record_id": "1"})
    limit_mb: int = 256
    sent: int = 0  # bytes written before the client hung up


@dataclass
class Rewrite:
    """The sandbox's answer, decoded, changed by ``change``, and sent on."""

    change: Callable[[Any], Any]


Rule = Drip | Endless | Rewrite


class HostileRedcap:
    """A REDCap proxy on loopback that misbehaves for the calls a rule matches."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.rules: list[tuple[Match, Rule]] = []
        self.calls: list[Form] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                with proxy.lock:
                    proxy.calls.append({k: v for k, v in form.items() if k != "token"})
                    rule = next((r for m, r in proxy.rules if m(form)), None)
                with suppress(OSError):  # the client hung up: what these servers are for
                    proxy._answer(self, raw, rule)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/api/"

    def on(self, match: Match, rule: Rule) -> Rule:
        with self.lock:
            self.rules.append((match, rule))
        return rule

    def writes(self) -> list[Form]:
        """Every record import the proxy was asked to pass on (or not)."""
        with self.lock:
            return [c for c in self.calls if call("record", "import")(c)]

    def _answer(self, handler: BaseHTTPRequestHandler, raw: bytes, rule: Rule | None) -> None:
        if isinstance(rule, Drip):
            _start(handler, 200)
            deadline = time.monotonic() + GUARD_SECONDS
            while not self.stop.is_set() and time.monotonic() < deadline:
                handler.wfile.write(b" ")
                handler.wfile.flush()
                self.stop.wait(rule.interval)
            return
        if isinstance(rule, Endless):
            _start(handler, 200)
            handler.wfile.write(b"[")
            block = (json.dumps(rule.row) + ",").encode() * 1000
            while rule.sent < rule.limit_mb * 1024 * 1024 and not self.stop.is_set():
                handler.wfile.write(block)
                rule.sent += len(block)
            return
        answer = requests.post(
            self.upstream,
            data=raw,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )
        body = answer.content
        if isinstance(rule, Rewrite) and answer.status_code == 200:
            body = json.dumps(rule.change(json.loads(body))).encode()
        _start(handler, answer.status_code, length=len(body))
        handler.wfile.write(body)

    def __enter__(self) -> HostileRedcap:
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def _start(handler: BaseHTTPRequestHandler, status: int, *, length: int | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.send_header("Connection", "close")  # no length: the body ends when we close
    handler.end_headers()
    handler.wfile.flush()


@contextmanager
def dripping_http() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server that answers every request 200 and then drips (Microsoft Graph)."""
    stop = threading.Event()
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _drip(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            self.rfile.read(length)
            paths.append(f"{self.command} {self.path}")
            try:
                _start(self, 200)
                deadline = time.monotonic() + GUARD_SECONDS
                while not stop.is_set() and time.monotonic() < deadline:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    stop.wait(DRIP_SECONDS)
            except OSError:
                pass

        do_GET = do_POST = _drip

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/v1.0", paths
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def dripping_smtp() -> Iterator[tuple[int, list[str]]]:
    """An SMTP server that greets and says EHLO normally, then answers MAIL FROM with a
    reply that never ends, one byte at a time. Yields its port and the commands it got."""
    stop = threading.Event()
    commands: list[str] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            try:
                self.wfile.write(b"220 drip ESMTP\r\n")
                for line in self.rfile:
                    verb = line.decode(errors="replace").split(" ", 1)[0].strip().upper()
                    commands.append(verb)
                    if verb in ("EHLO", "HELO"):
                        self.wfile.write(b"250-drip\r\n250 8BITMIME\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self._drip()
                        return
            except OSError:
                pass

        def _drip(self) -> None:
            deadline = time.monotonic() + GUARD_SECONDS
            while not stop.is_set() and time.monotonic() < deadline:
                for byte in b"250-still thinking\r\n":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if stop.wait(DRIP_SECONDS):
                        return

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    try:
        yield server.server_address[1], commands
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
