"""The stand-in's state object, its HTTPS server and its lifecycle.

MSAL refuses an authority that is not https, so the stand-in serves TLS with a throwaway
certificate authority made by ``trustme`` for this run only; its PEM file is
``ca_bundle``, which recruit's ``[email.graph] ca_bundle`` points at.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from recruit_cli.sandbox.microsoft.faults import Faults
from recruit_cli.sandbox.microsoft.identity import IdentityPlatform, IdentityRoutes
from recruit_cli.sandbox.microsoft.mail import SEND_RE, SENT_RE, Mailboxes, MailRoutes


class MicrosoftSandbox(IdentityPlatform, Mailboxes):
    """One running stand-in: where it is, its app registration, its knobs and what it sent.

    Connection values for recruit's ``[email.graph]``: ``authority_host``, ``endpoint``,
    ``ca_bundle``, ``client_id``, ``tenant_id`` (and ``client_secret`` for app-only mode;
    the delegated user is ``username``). The knobs are listed on ``IdentityPlatform`` and
    ``Mailboxes``. ``calls`` counts events: ``grant:<type>``, ``token:user|app``,
    ``request:send|sent_items`` (faulted ones included) and ``sent``. Thread-safe: one
    lock guards all state.
    """

    def __init__(self, faults: str | None = None) -> None:
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.authority_host = ""
        self.endpoint = ""
        self.ca_bundle = Path()
        IdentityPlatform.__init__(self)
        Mailboxes.__init__(self)
        self._faults = Faults()
        self.set_faults(faults)

    def set_faults(self, spec: str | None) -> None:
        """Replace the fault spec (grammar in ``faults``); resets the counters.

        Raises:
            ValueError: the spec does not parse.
        """
        self._faults.set(spec)

    def next_fault(self, target: str) -> tuple[str | None, int]:
        """Count one request to ``target``; return the fault to inject (or None), Retry-After."""
        self.count(f"request:{target}")
        return self._faults.draw(target)

    def count(self, name: str) -> None:
        """Count one event in ``calls``."""
        with self.lock:
            self.calls[name] += 1


class Handler(IdentityRoutes, MailRoutes):
    """Routes each request to the identity platform or to Graph mail."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if url.path.endswith("/v2.0/.well-known/openid-configuration"):
            self._openid_configuration(parts[0])
        elif url.path == "/common/discovery/instance":
            self._instance_discovery()
        elif url.path.endswith("/oauth2/v2.0/authorize"):
            self._authorize(query)
        elif match := SENT_RE.match(url.path):
            self._sent_items(match.group(2), query)
        else:
            self._graph_error(404, "ResourceNotFound", "Resource not found for the segment.")

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path.endswith("/oauth2/v2.0/devicecode"):
            self._device_code()
        elif path.endswith("/oauth2/v2.0/token"):
            self._token()
        elif match := SEND_RE.match(path):
            self._send_mail(match.group(2))
        else:
            self._body()
            self._graph_error(404, "ResourceNotFound", "Resource not found for the segment.")


class _TLSServer(ThreadingHTTPServer):
    """Threaded https server: the TLS handshake happens in the request thread, not accept()."""

    daemon_threads = True
    allow_reuse_address = True
    state: MicrosoftSandbox
    ssl_context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(tls, client_address)
        except (ssl.SSLError, ConnectionError):
            pass
        finally:
            tls.close()


@contextmanager
def run_microsoft_sandbox(faults: str | None = None) -> Iterator[MicrosoftSandbox]:
    """Run the stand-in in a thread on a free loopback port (https); stop it on exit.

    Raises:
        ValueError: ``faults`` does not parse.
    """
    import trustme  # only here: a run of recruit that never starts the stand-in skips it

    state = MicrosoftSandbox(faults)
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    with tempfile.TemporaryDirectory(prefix="recruit-microsoft-sandbox-") as tmp:
        state.ca_bundle = Path(tmp) / "ca.pem"
        ca.cert_pem.write_to_path(str(state.ca_bundle))
        server = _TLSServer(("127.0.0.1", 0), Handler)
        server.state = state
        server.ssl_context = ctx
        port = server.server_address[1]
        state.authority_host = f"https://127.0.0.1:{port}"
        state.endpoint = f"https://127.0.0.1:{port}/v1.0"
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="microsoft-sandbox",
            daemon=True,
        )
        thread.start()
        try:
            yield state
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
