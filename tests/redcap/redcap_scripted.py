"""A scripted HTTP server on loopback for answers the sandbox can't give.

HTML with status 200, garbage, 429 with Retry-After, a server that never answers: each
test queues the answers it wants and reads back the form bodies the client sent.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

TOKEN = "C0FFEE0123456789ABCDEF0123456789"  # a distinctive fake token to search output for


@dataclass
class Answer:
    status: int = 200
    body: str = "[]"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to sleep before answering (a hanging server)
    content_type: str = "application/json"


class ScriptedServer:
    """Answers requests from a queue (the last answer repeats when the queue runs dry)."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.last = Answer()
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                with server.lock:
                    server.requests.append({k: v[-1] for k, v in form.items()})
                    answer = server.answers.popleft() if server.answers else server.last
                    server.last = answer
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    body = answer.body.encode()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/api/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
