"""Helpers for the ops tests: a study directory on the embedded demo config."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recruit_cli.ops.demo import demo_config_text


def write_study(directory: Path, url: str, token: str, *, extra: str = "", edit=None) -> Path:  # type: ignore[no-untyped-def]
    """A study directory on the demo configuration, pointed at ``url``."""
    text = demo_config_text(url)
    if edit is not None:
        text = edit(text)
    config = directory / "recruit.toml"
    config.write_text(text + extra, encoding="utf-8")
    (directory / ".env").write_text(f"REDCAP_API_TOKEN={token}\n", encoding="utf-8")
    return config


def no_retry_waits(text: str) -> str:
    """The demo configuration with every REDCap retry kept but none of the production waits."""
    line = 'token_env = "REDCAP_API_TOKEN"'
    return text.replace(line, f"{line}\nretries = 3\nretry_max_wait = 0", 1)


@contextmanager
def ping_server() -> Iterator[tuple[str, list[str]]]:
    """A health-check endpoint on loopback recording the paths it was pinged at."""
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ping/check-uuid", paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
